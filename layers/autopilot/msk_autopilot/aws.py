"""The one boto3 client factory: retries, endpoint, timeouts and cross-account roles.

Every AWS call of the core goes through a `ClientFactory`, so retry behaviour and the endpoint
are decided in one place. botocore itself honours `AWS_ENDPOINT_URL` and
`AWS_ENDPOINT_URL_<SERVICE>`, which is how local runs reach the emulator; this module never
overrides them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import msgspec
from botocore.config import Config
from botocore.exceptions import ClientError

from msk_autopilot import __version__
from msk_autopilot.settings import CommonSettings, RetryMode

__all__ = [
    "AssumedRole",
    "ClientFactory",
    "PaginationError",
    "error_code",
    "error_message",
    "pages",
]

# Refresh assumed-role credentials this long before they expire, so a call never starts with
# credentials that lapse mid-request.
_CREDENTIAL_MARGIN = timedelta(minutes=5)


class AssumedRole(msgspec.Struct, frozen=True):
    """Where a factory's clients act: another account's role, optionally another Region."""

    role_arn: str
    session_name: str = "msk-autopilot"
    duration_seconds: int = 3600


class ClientFactory:
    """Creates and caches boto3 clients that share one retry policy.

    Clients are cached per (service, Region) for the life of the container; boto3 clients are
    thread-safe, sessions are not, so session work happens under a lock.
    """

    def __init__(
        self,
        region: str,
        retry_mode: RetryMode = "standard",
        max_attempts: int = 5,
        role: AssumedRole | None = None,
    ) -> None:
        self.region = region
        self.retry_mode: RetryMode = retry_mode
        self.max_attempts = max_attempts
        self.role = role
        self._clients: dict[tuple[str, str, int], Any] = {}
        self._session: boto3.Session | None = None
        self._expires: datetime | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return (
            f"ClientFactory(region={self.region!r}, retry_mode={self.retry_mode!r}, "
            f"max_attempts={self.max_attempts}, role={self.role!r})"
        )

    @classmethod
    def for_settings(cls, settings: CommonSettings) -> ClientFactory:
        return cls(
            region=settings.region,
            retry_mode=settings.retry_mode,
            max_attempts=settings.max_attempts,
        )

    @property
    def config(self) -> Config:
        return self._config(self.max_attempts)

    def _config(self, max_attempts: int) -> Config:
        return Config(
            retries={"mode": self.retry_mode, "total_max_attempts": max_attempts},
            connect_timeout=5,
            read_timeout=30,
            user_agent_extra=f"msk-autopilot/{__version__}",
        )

    def client(
        self, service: str, region: str | None = None, *, max_attempts: int | None = None
    ) -> Any:
        """A client for `service` in `region` (default: the factory's Region).

        `max_attempts` overrides the factory's retry budget for a caller that must decide itself
        whether to re-send (a call without an idempotency token, such as EventBridge PutEvents,
        is `max_attempts=1`).
        """
        target = region or self.region
        attempts = max_attempts or self.max_attempts
        with self._lock:
            session = self._current_session()
            key = (service, target, attempts)
            if key not in self._clients:
                self._clients[key] = session.client(
                    service, region_name=target, config=self._config(attempts)
                )
            return self._clients[key]

    def assume(self, role: AssumedRole, region: str | None = None) -> ClientFactory:
        """A factory whose clients act through `role` (in `region`, default this Region)."""
        return ClientFactory(
            region=region or self.region,
            retry_mode=self.retry_mode,
            max_attempts=self.max_attempts,
            role=role,
        )

    def _current_session(self) -> boto3.Session:
        now = datetime.now(UTC)
        if self._session is not None and (self._expires is None or now < self._expires):
            return self._session
        if self.role is None:
            self._session = boto3.Session()
        else:
            self._session, self._expires = self._assume_role(self.role)
        self._clients.clear()
        return self._session

    def _assume_role(self, role: AssumedRole) -> tuple[boto3.Session, datetime]:
        sts = boto3.Session().client("sts", region_name=self.region, config=self.config)
        credentials = sts.assume_role(
            RoleArn=role.role_arn,
            RoleSessionName=role.session_name,
            DurationSeconds=role.duration_seconds,
        )["Credentials"]
        session = boto3.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )
        expiration: datetime = credentials["Expiration"]
        return session, expiration - _CREDENTIAL_MARGIN


class PaginationError(RuntimeError):
    """A service answered the same page token twice: following it would never end."""


def pages(
    call: Callable[..., Mapping[str, Any]], /, *, cursor: str = "NextToken", **parameters: Any
) -> Iterator[Mapping[str, Any]]:
    """Every page of a token-paginated call: `pages(kafka.list_clusters_v2)`. `cursor` names
    the token for the services that spell it otherwise (MSK Connect: nextToken).

    Every list call of the core pages this way. botocore's paginators would do the same, but
    their first use in a process scans botocore's whole data directory for the paginator model:
    about 10 ms of each cold start.
    """
    seen: set[str] = set()
    while True:
        page = call(**parameters)
        yield page
        token = page.get(cursor)
        if not token:
            return
        if token in seen:
            raise PaginationError(f"{getattr(call, '__name__', call)} repeated {cursor} {token!r}")
        seen.add(token)
        parameters = {**parameters, cursor: token}


def error_code(error: ClientError) -> str:
    """The service's error code (`NotFoundException`...); empty when the answer had none."""
    return str(error.response.get("Error", {}).get("Code", ""))


def error_message(error: ClientError) -> str:
    """The service's error message; empty when the answer had none."""
    return str(error.response.get("Error", {}).get("Message", ""))
