"""A SCRAM_AUTHENTICATOR for the fault scenarios: brokers that know what MSK last synced.

MSK loads the AWSCURRENT value of every secret associated with a cluster onto its brokers at
each (periodic) sync and only then accepts it. `sync(world)` plays that sync against a fault
world's account (straight, never faulted); `authenticate` is what the rotator's testSecret calls
(`SCRAM_AUTHENTICATOR=scram_authenticator:authenticate`): it accepts a username and password only
if every bootstrap broker named has them loaded. No network: the handshake itself is tested by
tests/integration/config.
"""

from __future__ import annotations

import json
from typing import Any

from msk_autopilot.scram.handshake import ScramAuthenticationError
from msk_autopilot.scram.password import Password

PATH = "scram_authenticator:authenticate"
# broker host -> {username: password} loaded at the last sync
LOADED: dict[str, dict[str, str]] = {}
# bootstrap broker string -> cluster ARN, for `accepts`
HOSTS: dict[str, list[str]] = {}


def reset() -> None:
    LOADED.clear()
    HOSTS.clear()


def sync(world: Any) -> None:
    """What MSK's periodic sync does: load the AWSCURRENT value of the associated secrets."""
    kafka, secrets = world.client("kafka"), world.client("secretsmanager")
    for info in kafka.list_clusters_v2()["ClusterInfoList"]:
        arn = info["ClusterArn"]
        if not info["Provisioned"]["ClientAuthentication"]["Sasl"]["Scram"]["Enabled"]:
            continue
        brokers = kafka.get_bootstrap_brokers(ClusterArn=arn)["BootstrapBrokerStringSaslScram"]
        users: dict[str, str] = {}
        for secret_arn in kafka.list_scram_secrets(ClusterArn=arn)["SecretArnList"]:
            value = secrets.get_secret_value(SecretId=secret_arn)  # AWSCURRENT, as MSK reads
            credentials = json.loads(value["SecretString"])
            users[credentials["username"]] = credentials["password"]
        hosts = [endpoint.rpartition(":")[0] for endpoint in brokers.split(",")]
        HOSTS[arn] = hosts
        for host in hosts:
            LOADED[host] = dict(users)


def accepts(cluster_arn: str, username: str, password: str) -> bool:
    hosts = HOSTS.get(cluster_arn, [])
    return bool(hosts) and all(LOADED.get(host, {}).get(username) == password for host in hosts)


def authenticate(bootstrap_brokers: str, username: str, password: Password) -> None:
    for endpoint in bootstrap_brokers.split(","):
        host = endpoint.rpartition(":")[0]
        if LOADED.get(host, {}).get(username) != password.reveal():
            raise ScramAuthenticationError(f"{endpoint}: authentication failed for {username}")
