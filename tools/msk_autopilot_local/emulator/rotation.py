"""Secrets Manager's part of a secret rotation, which moto cannot play without Docker.

RotateSecret stages a new, empty version as AWSPENDING and then invokes the rotation function's
four steps with that version's token. moto's RotateSecret invokes the function through Docker and
then promotes the version whatever testSecret said, so local runs stage the version here and
call the function themselves.
"""

import time
import uuid

from moto.secretsmanager.models import FakeSecret, secretsmanager_backends

__all__ = ["start_rotation"]


def start_rotation(secret_arn: str) -> str:
    """Stage a new, empty AWSPENDING version of `secret_arn` in moto; return its token."""
    parts = secret_arn.split(":")
    if len(parts) < 7 or parts[2] != "secretsmanager":
        raise ValueError(f"not a Secrets Manager secret ARN: {secret_arn!r}")
    region, account = parts[3], parts[4]
    secret = secretsmanager_backends[account][region].secrets[secret_arn]
    if not isinstance(secret, FakeSecret):
        raise TypeError(f"{secret_arn} is a replica; Secrets Manager rotates its primary")
    token = str(uuid.uuid4())
    secret.remove_version_stages_from_old_versions(["AWSPENDING"])
    secret.versions[token] = {
        "createdate": int(time.time()),
        "version_id": token,
        "version_stages": ["AWSPENDING"],
    }
    return token
