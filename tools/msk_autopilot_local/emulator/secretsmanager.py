"""Secrets Manager's AWSCURRENT after UpdateSecretVersionStage, which moto loses track of.

moto answers GetSecretValue without VersionId or VersionStage (and DescribeSecret's current
version) from the secret's `default_version_id`, which PutSecretValue and RotateSecret move but
UpdateSecretVersionStage does not: after a rotation's finishSecret moved AWSCURRENT to the new
version, a read without a stage still returned the old value. Secrets Manager returns the version
labelled AWSCURRENT (API reference, GetSecretValue: "If you don't specify either a VersionStage
or VersionId, Secrets Manager returns the AWSCURRENT version"), and MSK and clients read so.
"""

from collections.abc import Callable

from moto.secretsmanager.models import FakeSecret, SecretsManagerBackend

__all__ = ["install_current_version_tracking"]

type UpdateVersionStage = Callable[[SecretsManagerBackend, str, str, str, str], tuple[str, str]]


def _moving_the_default_version(original: UpdateVersionStage) -> UpdateVersionStage:
    def update_secret_version_stage(
        self: SecretsManagerBackend,
        secret_id: str,
        version_stage: str,
        remove_from_version_id: str,
        move_to_version_id: str,
    ) -> tuple[str, str]:
        answer = original(
            self, secret_id, version_stage, remove_from_version_id, move_to_version_id
        )
        secret = self.secrets[secret_id]
        # A replica reads its primary's default version; only a primary keeps one.
        if version_stage == "AWSCURRENT" and move_to_version_id and isinstance(secret, FakeSecret):
            secret.set_default_version_id(move_to_version_id)
        return answer

    update_secret_version_stage.moves_default_version = True  # type: ignore[attr-defined]
    return update_secret_version_stage


def install_current_version_tracking() -> None:
    """Make moto's default secret version follow AWSCURRENT, in this process. Idempotent."""
    current = SecretsManagerBackend.update_secret_version_stage
    if not getattr(current, "moves_default_version", False):
        SecretsManagerBackend.update_secret_version_stage = _moving_the_default_version(  # type: ignore[method-assign, assignment]
            current
        )
