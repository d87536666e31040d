"""SCRAM secret rotation for MSK: Secrets Manager's four-step protocol for `AmazonMSK_*` secrets.

Single-user, password-only rotation (the strategy MSK supports): the username stays, the password
changes. Each step is idempotent, so Secrets Manager may repeat any of them:

createSecret  a strong password from GetRandomPassword, stored as the AWSPENDING version
              (skipped when that version already has a value).
setSecret     the secret associated with every cluster that uses it: clusters whose
              ListScramSecrets has it, plus opted-in clusters whose tag
              `msk-autopilot:scram-secrets` names it (space-separated secret names), which is how
              a new cluster gets the secret at the next rotation. Each association passes the
              health gates (`MskPort.associate_scram_secrets`): one a gate holds (over the
              partition maximum, MSK maintenance, a cluster not ACTIVE) is *deferred*, reported
              in the outcome and left to the next rotation, and the rotation goes on: MSK reads
              only AWSCURRENT, so a cluster associated later gets the password then in force,
              and the clusters already using the secret need not wait for it. Associations MSK
              refuses are reported, not retried blindly.
testSecret    the pending version is well formed (same username, a new password), and every
              cluster associated with the secret accepts the *current* credentials over
              SASL/SCRAM-SHA-512 on its bootstrap brokers, through the pluggable authenticator.
              Why the current ones: MSK reads only the AWSCURRENT version of an associated secret
              (msk-password-rotation.html), so no broker can accept the new password before
              finishSecret promotes it. What can be proven beforehand, and is, is that every
              cluster reaches its brokers with this user loaded, so the promoted password reaches
              them the same way. Any failure raises: Secrets Manager marks the rotation failed and
              AWSCURRENT, the password clients use, is left untouched.
finishSecret  AWSCURRENT moves to the new version (AWSPREVIOUS to the old one). MSK syncs it to
              the brokers within minutes; the old password stops authenticating then.

A secret MSK cannot use (name without `AmazonMSK_`, the AWS managed key aws/secretsmanager, a
value that is not `{"username", "password"}` JSON) is rejected with the reason and no change.

Only opted-in credentials change: every step rejects, with no change, a secret that is not
tagged with the opt-in tag itself, or that is associated with a cluster that is not (the stack's
IAM lets the function write only secrets so tagged, and associate them only with clusters so
tagged).

A password is held as a `Password`, which formats as `***`: the pluggable authenticator gets one
too, so no log line, notification, outcome or exception message can carry it, in any encoding.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import msgspec
from botocore.exceptions import ClientError

from msk_autopilot.aws import ClientFactory, error_code, error_message, pages
from msk_autopilot.events import SecretRotationStep
from msk_autopilot.health.gatekeeper import guarded_msk
from msk_autopilot.msk import ClusterSnapshot, MskPort, UpdateStatus
from msk_autopilot.notify import Notifier
from msk_autopilot.observability import MetricUnit, logger, metrics
from msk_autopilot.outcome import Outcome, Severity, Status
from msk_autopilot.runtime import LambdaContext, load_callable
from msk_autopilot.scram.password import Password
from msk_autopilot.settings import ScramRotatorSettings

__all__ = [
    "SCRAM_SECRETS_TAG_KEY",
    "Authenticator",
    "Credentials",
    "RotationFailed",
    "RotationRejected",
    "ScramRotator",
    "build_scram_rotator",
]

SCRAM_SECRETS_TAG_KEY = "msk-autopilot:scram-secrets"
NAME_PREFIX = "AmazonMSK_"  # the only secret names MSK accepts
PASSWORD_LENGTH = 32
# Characters that break quoting in JAAS configuration files and shell scripts.
_EXCLUDED_CHARACTERS = "\"'\\`$"
_MAX_SECRET_ID = 2048  # Secrets Manager's limit on a SecretId

type Authenticator = Callable[[str, str, Password], None]
"""`(bootstrap_brokers, username, password)`; returns when the brokers accept the credentials,
raises otherwise. `password.reveal()` is its text."""


class RotationRejected(ValueError):
    """The secret cannot be rotated as it is; nothing was changed."""


class RotationFailed(RuntimeError):
    """A step could not complete; AWSCURRENT is unchanged."""


class Credentials(msgspec.Struct, frozen=True):
    """The JSON value of an MSK SCRAM secret; other keys in it are kept as they are."""

    username: str
    password: Password
    other: dict[str, Any] = msgspec.field(default_factory=dict)

    def __repr__(self) -> str:  # never the password, nor keys that may hold other secrets
        return f"Credentials(username={self.username!r})"

    @classmethod
    def parse(cls, secret_string: str | None, what: str) -> Credentials:
        try:
            value = json.loads(secret_string or "")
        except json.JSONDecodeError:
            value = None
        if not isinstance(value, dict):
            raise RotationRejected(f'{what} is not JSON {{"username": ..., "password": ...}}')
        username, password = value.get("username"), value.get("password")
        if not isinstance(username, str) or not username:
            raise RotationRejected(f"{what} has no username")
        if not isinstance(password, str) or not password:
            raise RotationRejected(f"{what} has no password")
        other = {k: v for k, v in value.items() if k not in {"username", "password"}}
        return cls(username, Password(password), other)

    def secret_string(self) -> str:
        password = self.password.reveal()
        return json.dumps({**self.other, "username": self.username, "password": password})


class _Secret(msgspec.Struct, frozen=True):
    arn: str
    name: str
    versions: dict[str, list[str]]

    @property
    def current_version(self) -> str:
        return next(v for v, stages in self.versions.items() if "AWSCURRENT" in stages)


class _User(msgspec.Struct, frozen=True):
    """A cluster that uses the secret: associated already, or tagged to use it."""

    cluster: ClusterSnapshot
    associated: bool
    tagged: bool


class ScramRotator(msgspec.Struct):
    """Runs one step of Secrets Manager's rotation protocol for an AmazonMSK_ secret."""

    secrets: Any
    kms: Any
    kafka: Any
    msk: MskPort
    notifier: Notifier
    authenticate: Authenticator
    settings: ScramRotatorSettings

    def handle(self, event: SecretRotationStep, context: LambdaContext) -> Outcome:
        try:
            return self._run(event)
        except RotationRejected as rejected:
            logger.error("secret rejected", extra={"step": event.step, "reason": str(rejected)})
            metrics.add_metric(name="ScramRotationsRejected", unit=MetricUnit.Count, value=1)
            self.notifier.publish(
                "SCRAM secret rotation rejected",
                {"secret": event.secret_id, "step": event.step, "reason": str(rejected)},
                Severity.CRITICAL,
            )
            raise

    def _run(self, event: SecretRotationStep) -> Outcome:
        if not 1 <= len(event.secret_id) <= _MAX_SECRET_ID:
            return Outcome(Status.REJECTED, "SecretId must be 1 to 2048 characters")
        try:
            secret = self._secret(event.secret_id)
        except ClientError as error:
            if error_code(error) != "ResourceNotFoundException":
                raise
            logger.warning("secret not found", extra={"secret": event.secret_id})
            return Outcome(Status.SKIPPED, f"{event.secret_id} does not exist; nothing to rotate")
        token = event.client_request_token
        stages = secret.versions.get(token)
        if stages is None:
            raise RotationRejected(f"{secret.name} has no version {token} to rotate to")
        if "AWSCURRENT" in stages:
            return Outcome(
                Status.UNCHANGED, f"version {token} is already AWSCURRENT", {"secret": secret.name}
            )
        if "AWSPENDING" not in stages:
            raise RotationRejected(f"version {token} of {secret.name} is not AWSPENDING")
        return self._perform(event.step, secret, token)

    def _perform(self, step: str, secret: _Secret, token: str) -> Outcome:
        """One step on the pending version `token`, if every cluster using the secret is opted
        in: checked at every step, right before its change, so that an association made since
        the previous step counts."""
        users, skipped = self._users(secret)
        tag_key = self.settings.opt_in_tag_key
        not_opted_in = [
            user.cluster.cluster_name
            for user in users
            if user.associated and not user.cluster.opted_in(tag_key)
        ]
        if not_opted_in:
            raise RotationRejected(
                f"{secret.name} is used by {', '.join(not_opted_in)}, not opted in "
                f"({tag_key}=true); tag {'it' if len(not_opted_in) == 1 else 'them'} or "
                "disassociate the secret"
            )
        if self.settings.dry_run:
            raise RotationFailed(
                f"DRY_RUN is on: {step} of {secret.name} not performed; AWSCURRENT is unchanged"
            )
        match step:
            case "createSecret":
                return self._create(secret, token)
            case "setSecret":
                return self._set(secret, token, users, skipped)
            case "testSecret":
                return self._test(secret, token, users)
            case _:
                return self._finish(secret, token, users)

    # --- the checks every step makes -------------------------------------------------------

    def _secret(self, secret_id: str) -> _Secret:
        described = self.secrets.describe_secret(SecretId=secret_id)
        name = str(described["Name"])
        if not name.startswith(NAME_PREFIX):
            raise RotationRejected(
                f"{name}: MSK only uses secrets whose name starts with {NAME_PREFIX}"
            )
        tag_key = self.settings.opt_in_tag_key
        tags = {tag["Key"]: tag["Value"] for tag in described.get("Tags", [])}
        if tags.get(tag_key) != "true":
            raise RotationRejected(
                f"{name} is not tagged {tag_key}=true: only opted-in secrets are rotated "
                f"(tag-resource --tags Key={tag_key},Value=true)"
            )
        key = described.get("KmsKeyId")
        managed_by_aws = not key or "alias/aws/" in key
        if not managed_by_aws:
            metadata = self.kms.describe_key(KeyId=key)["KeyMetadata"]
            managed_by_aws = metadata.get("KeyManager") != "CUSTOMER"
        if managed_by_aws:
            raise RotationRejected(
                f"{name} is encrypted with the AWS managed key aws/secretsmanager; MSK requires "
                "a customer managed KMS key (update-secret --kms-key-id <your key>)"
            )
        return _Secret(str(described["ARN"]), name, dict(described.get("VersionIdsToStages", {})))

    def _credentials(
        self, secret: _Secret, *, stage: str, version: str | None = None
    ) -> Credentials:
        options = {"VersionId": version} if version else {}
        value = self.secrets.get_secret_value(SecretId=secret.arn, VersionStage=stage, **options)
        return Credentials.parse(value.get("SecretString"), f"the {stage} value of {secret.name}")

    # --- the four steps ------------------------------------------------------------------------

    def _create(self, secret: _Secret, token: str) -> Outcome:
        current = self._credentials(secret, stage="AWSCURRENT")
        try:
            pending = self._credentials(secret, stage="AWSPENDING", version=token)
        except ClientError as error:
            if error_code(error) != "ResourceNotFoundException":
                raise
        else:
            _same_user(current, pending, secret)
            return Outcome(Status.UNCHANGED, "the pending version exists", {"secret": secret.name})
        password = self.secrets.get_random_password(
            PasswordLength=PASSWORD_LENGTH,
            ExcludeCharacters=_EXCLUDED_CHARACTERS,
            IncludeSpace=False,
            RequireEachIncludedType=True,
        )["RandomPassword"]
        self.secrets.put_secret_value(
            SecretId=secret.arn,
            ClientRequestToken=token,
            SecretString=msgspec.structs.replace(
                current, password=Password(password)
            ).secret_string(),
            VersionStages=["AWSPENDING"],
        )
        return Outcome(
            Status.ACTED,
            "created the pending version: same username, new password",
            {"secret": secret.name, "username": current.username},
        )

    def _set(
        self, secret: _Secret, token: str, users: list[_User], skipped: dict[str, str]
    ) -> Outcome:
        _same_user(
            self._credentials(secret, stage="AWSCURRENT"),
            self._credentials(secret, stage="AWSPENDING", version=token),
            secret,
        )
        associated: list[str] = []
        unprocessed: dict[str, str] = {}
        deferred: dict[str, str] = {}  # held by a gate or not ready: the next rotation retries
        for user in users:
            if user.associated:
                continue
            name = user.cluster.cluster_name
            tag_key = self.settings.opt_in_tag_key
            if not user.cluster.opted_in(tag_key):
                skipped[name] = f"tagged to use the secret but not opted in ({tag_key})"
                continue
            try:
                result = self.msk.associate_scram_secrets(
                    user.cluster.cluster_arn,
                    [secret.arn],
                    reason=f"{secret.name} is tagged for {name}",
                    dry_run=self.settings.dry_run,
                )
            except ClientError as error:  # e.g. throttled beyond retries: this cluster only
                unprocessed[name] = f"{error_code(error)}: {error_message(error)}"
                continue
            if result.started:
                associated.append(name)
                metrics.add_metric(name="ScramSecretsAssociated", unit=MetricUnit.Count, value=1)
                logger.info("secret associated", extra={"secret": secret.name, "cluster": name})
            elif result.status in {UpdateStatus.DEFERRED, UpdateStatus.NOT_READY}:
                deferred[name] = result.reason
            else:
                unprocessed[name] = result.reason
        details = {
            "secret": secret.name,
            "clusters": [user.cluster.cluster_name for user in users],
            "associated": associated,
            "deferred": deferred,
            "unprocessed": unprocessed,
            "skipped": skipped,
        }
        if unprocessed or skipped:
            logger.warning("secret not associated everywhere", extra=details)
            self.notifier.publish(
                f"{secret.name} is not associated with every cluster that uses it",
                details,
                Severity.WARNING,
            )
        if deferred:
            # The gatekeeper notified once per cluster and gate; the step still succeeds.
            return Outcome(
                Status.DEFERRED,
                f"associated with {len(associated)} more clusters; {len(deferred)} deferred "
                "to the next rotation",
                details,
            )
        status = Status.ACTED if associated else Status.UNCHANGED
        return Outcome(status, f"associated with {len(associated)} more clusters", details)

    def _test(self, secret: _Secret, token: str, users: list[_User]) -> Outcome:
        current = self._credentials(secret, stage="AWSCURRENT")
        pending = self._credentials(secret, stage="AWSPENDING", version=token)
        _same_user(current, pending, secret)
        if pending.password.reveal() == current.password.reveal():
            raise RotationRejected(f"the pending version of {secret.name} keeps the same password")
        clusters = [user.cluster for user in users if user.associated]
        failures: dict[str, str] = {}
        for cluster in clusters:
            brokers = self.kafka.get_bootstrap_brokers(ClusterArn=cluster.cluster_arn).get(
                "BootstrapBrokerStringSaslScram"
            )
            if not brokers:
                failures[cluster.cluster_name] = "no SASL/SCRAM bootstrap brokers"
                continue
            try:
                self.authenticate(brokers, current.username, current.password)
            except Exception as error:  # noqa: BLE001  any authenticator failure fails the test
                failures[cluster.cluster_name] = f"{type(error).__name__}: {error}"
        names = [cluster.cluster_name for cluster in clusters]
        if failures:
            metrics.add_metric(name="ScramTestFailures", unit=MetricUnit.Count, value=1)
            details = {"secret": secret.name, "clusters": names, "failures": failures}
            self.notifier.publish(
                f"rotation of {secret.name} stopped: brokers refused", details, Severity.WARNING
            )
            refused = "; ".join(f"{name}: {reason}" for name, reason in failures.items())
            raise RotationFailed(f"testSecret of {secret.name}: {refused}; AWSCURRENT is unchanged")
        return Outcome(
            Status.UNCHANGED,
            f"{current.username} authenticates on every cluster that uses {secret.name}",
            {"secret": secret.name, "clusters": names},
        )

    def _finish(self, secret: _Secret, token: str, users: list[_User]) -> Outcome:
        previous = secret.current_version
        self.secrets.update_secret_version_stage(
            SecretId=secret.arn,
            VersionStage="AWSCURRENT",
            MoveToVersionId=token,
            RemoveFromVersionId=previous,
        )
        names = [user.cluster.cluster_name for user in users if user.associated]
        metrics.add_metric(name="ScramRotations", unit=MetricUnit.Count, value=1)
        details = {
            "secret": secret.name,
            "version": token,
            "previousVersion": previous,
            "clusters": names,
            "note": "MSK syncs the new password to the brokers within minutes; "
            "the previous password stops authenticating then",
        }
        self.notifier.publish(f"{secret.name} rotated", details, Severity.INFO)
        return Outcome(Status.ACTED, f"{secret.name}: new password is AWSCURRENT", details)

    def _users(self, secret: _Secret) -> tuple[list[_User], dict[str, str]]:
        """Clusters that use the secret, and tagged clusters that cannot, with why."""
        users: list[_User] = []
        skipped: dict[str, str] = {}
        for cluster in self.msk.clusters():
            tagged = secret.name in cluster.tags.get(SCRAM_SECRETS_TAG_KEY, "").split()
            scram = cluster.provisioned is not None and (
                cluster.provisioned.client_authentication.sasl.scram.enabled
            )
            if not scram:
                if tagged:
                    skipped[cluster.cluster_name] = "tagged to use the secret but SASL/SCRAM is off"
                continue
            try:
                associated = secret.arn in self._associated_secrets(cluster.cluster_arn)
            except ClientError as error:
                if error_code(error) != "NotFoundException":
                    raise
                continue  # deleted since it was listed
            if associated or tagged:
                users.append(_User(cluster, associated, tagged))
        return users, skipped

    def _associated_secrets(self, cluster_arn: str) -> set[str]:
        listing = pages(self.kafka.list_scram_secrets, ClusterArn=cluster_arn)
        return {arn for page in listing for arn in page.get("SecretArnList", [])}


def _same_user(current: Credentials, pending: Credentials, secret: _Secret) -> None:
    if pending.username != current.username:
        raise RotationRejected(
            f"the pending version of {secret.name} changes the username; MSK rotation keeps it"
        )


def build_scram_rotator(settings: ScramRotatorSettings, clients: ClientFactory) -> ScramRotator:
    notifier = Notifier(clients.client("sns"), settings.notification_topic_arn)
    return ScramRotator(
        secrets=clients.client("secretsmanager"),
        kms=clients.client("kms"),
        kafka=clients.client("kafka"),
        msk=guarded_msk(clients, idempotency_table=settings.idempotency_table, notifier=notifier),
        notifier=notifier,
        authenticate=load_callable(settings.authenticator, "SCRAM_AUTHENTICATOR"),
        settings=settings,
    )
