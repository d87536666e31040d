"""The brokers' side of MSK's SASL/SCRAM: which credentials each broker accepts.

MSK syncs the secrets associated with a SASL/SCRAM cluster to its brokers: after a sync, every
broker knows the AWSCURRENT username and password of each associated secret. No broker runs
SASL/SCRAM locally, so ``scram_brokers.sync(kafka, secretsmanager)`` plays that sync from the
account's clusters and secrets, and ``local_scram_authenticator`` (a ``SCRAM_AUTHENTICATOR`` for
the SCRAM rotator, ``msk_autopilot_local.emulator.scram_brokers:local_scram_authenticator``)
checks a handshake against what the brokers learnt at the last sync.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

from msk_autopilot.scram.password import Password

__all__ = ["ScramBrokers", "current_secret_value", "local_scram_authenticator", "scram_brokers"]


def current_secret_value(secretsmanager: Any, secret_arn: str) -> dict[str, Any]:
    """The AWSCURRENT value of a secret, as a JSON document."""
    # The stage explicitly: moto's default version does not follow UpdateSecretVersionStage.
    value = secretsmanager.get_secret_value(SecretId=secret_arn, VersionStage="AWSCURRENT")
    document: dict[str, Any] = json.loads(value["SecretString"])
    return document


class ScramBrokers:
    """The SCRAM users each broker host knows, as of the last `sync`."""

    def __init__(self) -> None:
        self.users_by_host: dict[str, dict[str, str]] = {}

    def sync(self, kafka: Any, secretsmanager: Any) -> None:
        """What MSK does with associated secrets: the brokers of every SASL/SCRAM cluster learn
        the AWSCURRENT credentials of the secrets associated with it (and forget the rest)."""
        self.users_by_host.clear()
        for info in kafka.list_clusters_v2()["ClusterInfoList"]:
            sasl = info.get("Provisioned", {}).get("ClientAuthentication", {}).get("Sasl", {})
            if not sasl.get("Scram", {}).get("Enabled"):
                continue
            arn = info["ClusterArn"]
            users: dict[str, str] = {}
            for secret_arn in kafka.list_scram_secrets(ClusterArn=arn)["SecretArnList"]:
                credentials = current_secret_value(secretsmanager, secret_arn)
                users[credentials["username"]] = credentials["password"]
            hosts = kafka.get_bootstrap_brokers(ClusterArn=arn)["BootstrapBrokerStringSaslScram"]
            for endpoint in hosts.split(","):
                self.users_by_host[endpoint.rpartition(":")[0]] = users

    def forget(self) -> None:
        """Drop every credential learnt (they are passwords)."""
        self.users_by_host.clear()

    def authenticate(self, bootstrap_brokers: str, username: str, password: str) -> None:
        """Every broker of `bootstrap_brokers` must know `username` with `password`. Raises
        like a refused handshake; never echoes the password."""
        for endpoint in bootstrap_brokers.split(","):
            users = self.users_by_host.get(endpoint.rpartition(":")[0])
            if users is None:
                raise ConnectionError(f"{endpoint}: no broker answers")
            known = users.get(username)
            if known is None or not hmac.compare_digest(known.encode(), password.encode()):
                raise PermissionError(f"{endpoint}: authentication failed for user {username}")

    def accepts(self, bootstrap_brokers: str, username: str, password: str) -> bool:
        try:
            self.authenticate(bootstrap_brokers, username, password)
        except (ConnectionError, PermissionError):
            return False
        return True


# One set of brokers per process, like moto's one account state per process: the rotator,
# loaded by import path, reaches it through `local_scram_authenticator`.
scram_brokers = ScramBrokers()


def local_scram_authenticator(bootstrap_brokers: str, username: str, password: Password) -> None:
    """SCRAM_AUTHENTICATOR for local runs: the handshake as the process's brokers would answer
    it, as of MSK's last sync."""
    scram_brokers.authenticate(bootstrap_brokers, username, password.reveal())
