"""Step 6, SASL/SCRAM: the four rotation steps on AmazonMSK_orders_app, a secret shared by two
clusters, checked against the emulator's SCRAM brokers."""

from __future__ import annotations

from typing import Any

from msk_autopilot_local.demo.session import COMPLIANT, FILLING, DemoSession

__all__ = ["AUTHENTICATOR", "scram"]

SECRET = "AmazonMSK_orders_app"  # noqa: S105  the name orders' scramUsers seeds
AUTHENTICATOR = "msk_autopilot_local.emulator.scram_brokers:local_scram_authenticator"


def scram(session: DemoSession) -> None:
    # moto is heavy: imported when the step runs
    from msk_autopilot_local.emulator import scram_brokers, start_rotation  # noqa: PLC0415
    from msk_autopilot_local.emulator.events import secret_rotation_step  # noqa: PLC0415
    from msk_autopilot_local.emulator.scram_brokers import current_secret_value  # noqa: PLC0415

    say, tally = session.progress.say, session.result.functions["scram_rotator"]
    kafka, secrets = session.kafka, session.account.client("secretsmanager")
    secret_arn = secrets.describe_secret(SecretId=SECRET)["ARN"]
    kafka.tag_resource(
        ResourceArn=session.clusters[FILLING], Tags={"msk-autopilot:scram-secrets": SECRET}
    )
    say(
        f"{SECRET} is associated with {COMPLIANT}; {FILLING} is tagged "
        f"msk-autopilot:scram-secrets={SECRET}"
    )
    say(
        "no broker runs SASL/SCRAM here, so testSecret's handshake goes to a local "
        f"authenticator (SCRAM_AUTHENTICATOR={AUTHENTICATOR}) that checks the credentials "
        "MSK last synced to each cluster's brokers (the AWSCURRENT value of its associated "
        "secrets)"
    )
    scram_brokers.sync(kafka, secrets)
    current = current_secret_value(secrets, secret_arn)
    token = start_rotation(secret_arn)
    say(
        f"Secrets Manager starts a rotation (played by the demo): version {token[:8]}... is "
        "AWSPENDING; then it invokes the four steps:"
    )
    outcomes: dict[str, dict[str, Any]] = {}
    for step in ("createSecret", "setSecret", "testSecret", "finishSecret"):
        event = secret_rotation_step(step, secret_id=secret_arn, token=token)
        answer = session.invoke("scram_rotator", event, SCRAM_AUTHENTICATOR=AUTHENTICATOR)
        outcomes[step] = answer
        say(f"{step:<13} {answer['status']}: {answer['reason']}")
        if step == "setSecret":
            scram_brokers.sync(kafka, secrets)
            say("MSK syncs the associated secrets to the brokers")
    session.expect(
        [outcomes[s]["status"] for s in outcomes] == ["acted", "acted", "unchanged", "acted"],
        f"unexpected rotation outcomes: { {s: o['status'] for s, o in outcomes.items()} }",
    )
    clusters = sorted(outcomes["testSecret"]["details"]["clusters"])
    session.expect(clusters == sorted([COMPLIANT, FILLING]), f"tested on {clusters}")
    rotated = current_secret_value(secrets, secret_arn)
    session.expect(
        rotated["username"] == current["username"] and rotated["password"] != current["password"],
        "AWSCURRENT should keep the username with a new password",
    )
    scram_brokers.sync(kafka, secrets)
    brokers = [
        kafka.get_bootstrap_brokers(ClusterArn=session.clusters[name])[
            "BootstrapBrokerStringSaslScram"
        ]
        for name in clusters
    ]
    new_ok = all(
        scram_brokers.accepts(hosts, rotated["username"], rotated["password"]) for hosts in brokers
    )
    old_refused = not any(
        scram_brokers.accepts(hosts, current["username"], current["password"]) for hosts in brokers
    )
    session.expect(
        new_ok and old_refused, "after the sync the brokers should take only the new password"
    )
    say(
        f"after MSK's next sync, {' and '.join(clusters)} accept user {rotated['username']} "
        "with the new password only"
    )
    session.say_notifications()
    tally.did.append(f"rotated {SECRET} on {len(clusters)} clusters")
    session.result.numbers["scram"] = {"clusters": clusters, "rotated": True}
