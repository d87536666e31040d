"""A minimal Kafka SASL/SCRAM-SHA-512 client: proves that brokers accept a username and password.

Two Kafka requests and RFC 5802's arithmetic are all the check needs: SaslHandshake v1 (select
SCRAM-SHA-512), then SaslAuthenticate v1 twice (client-first, client-final), and the server's
signature is verified so a broker that merely accepts anything does not pass. A Kafka client
library (kafka-python, confluent-kafka) would add a layer dependency, import time and a metadata
bootstrap for the same two round trips, so this module uses the standard library only.

MSK's SASL/SCRAM listeners (port 9096, 9196 public) always use TLS; the default context verifies
the broker certificate and host name.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import socket
import ssl
import struct
from dataclasses import dataclass, field

from msk_autopilot.scram.password import Password

__all__ = [
    "MECHANISM",
    "ScramAuthenticationError",
    "ScramClient",
    "authenticate",
    "authenticate_broker",
]

MECHANISM = "SCRAM-SHA-512"
MIN_ITERATIONS = 4096  # Kafka's minimum for SCRAM-SHA-512; fewer means a weak or fake server
_SASL_HANDSHAKE, _SASL_AUTHENTICATE = 17, 36
_CLIENT_ID = b"msk-autopilot-scram-check"
_GS2_HEADER = "n,,"  # no channel binding, no authorization identity


class ScramAuthenticationError(Exception):
    """The brokers did not accept the credentials, or could not be asked. Never holds a password."""


@dataclass
class ScramClient:
    """The client side of one SCRAM exchange (RFC 5802; SHA-512 as Kafka's SCRAM-SHA-512)."""

    username: str
    password: Password
    nonce: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    hash_name: str = "sha512"
    minimum_iterations: int = MIN_ITERATIONS
    _auth_message: bytes = field(default=b"", init=False, repr=False)
    _server_key: bytes = field(default=b"", init=False, repr=False)

    def first_message(self) -> bytes:
        return (_GS2_HEADER + self._first_bare()).encode()

    def final_message(self, server_first: bytes) -> bytes:
        attributes = _attributes(server_first)
        server_nonce, salt, iterations = (
            attributes.get("r", ""),
            attributes.get("s"),
            attributes.get("i"),
        )
        if (
            "m" in attributes
            or not server_nonce.startswith(self.nonce)
            or len(server_nonce) == len(self.nonce)
        ):
            raise ScramAuthenticationError("the server's first SCRAM message is not valid")
        if salt is None or iterations is None or not iterations.isdigit():
            raise ScramAuthenticationError(
                "the server's first SCRAM message lacks salt or iterations"
            )
        if int(iterations) < self.minimum_iterations:
            raise ScramAuthenticationError(
                f"the server asks for {iterations} iterations, fewer than {self.minimum_iterations}"
            )
        salted = hashlib.pbkdf2_hmac(
            self.hash_name, self.password.reveal().encode("utf-8"), _base64(salt), int(iterations)
        )
        without_proof = f"c={base64.b64encode(_GS2_HEADER.encode()).decode()},r={server_nonce}"
        self._auth_message = ",".join(
            (self._first_bare(), server_first.decode(), without_proof)
        ).encode()
        client_key = self._hmac(salted, b"Client Key")
        stored_key = hashlib.new(self.hash_name, client_key).digest()
        signature = self._hmac(stored_key, self._auth_message)
        proof = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
        self._server_key = self._hmac(salted, b"Server Key")
        return f"{without_proof},p={base64.b64encode(proof).decode()}".encode()

    def verify_server_final(self, server_final: bytes) -> None:
        attributes = _attributes(server_final)
        if "e" in attributes:
            raise ScramAuthenticationError(f"the server refused the proof: {attributes['e']}")
        expected = self._hmac(self._server_key, self._auth_message)
        received = _base64(attributes.get("v", ""))
        if not hmac.compare_digest(expected, received):
            raise ScramAuthenticationError(
                "the server's signature is wrong: it does not know the user"
            )

    def _first_bare(self) -> str:
        name = self.username.replace("=", "=3D").replace(",", "=2C")
        return f"n={name},r={self.nonce}"

    def _hmac(self, key: bytes, message: bytes) -> bytes:
        return hmac.new(key, message, self.hash_name).digest()


def _attributes(message: bytes) -> dict[str, str]:
    try:
        text = message.decode()
    except UnicodeDecodeError:
        raise ScramAuthenticationError("a SCRAM message from the server is not UTF-8") from None
    return {part[:1]: part[2:] for part in text.split(",") if len(part) >= 2 and part[1] == "="}


def _base64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        raise ScramAuthenticationError("a SCRAM message from the server is not valid") from None


def authenticate(
    bootstrap_brokers: str,
    username: str,
    password: Password,
    *,
    tls: ssl.SSLContext | None = None,
) -> None:
    """Every broker of `bootstrap_brokers` ("host:port,...") accepts the credentials over TLS.

    The default `SCRAM_AUTHENTICATOR`. Each broker is asked, because MSK loads secrets into each
    broker separately and a client may be sent to any of them. `tls` defaults to the system's
    certificate authorities, which sign MSK's broker certificates.
    """
    context = tls or ssl.create_default_context()
    failures: list[str] = []
    endpoints = [endpoint.strip() for endpoint in bootstrap_brokers.split(",") if endpoint.strip()]
    if not endpoints:
        raise ScramAuthenticationError("no SASL/SCRAM bootstrap brokers to ask")
    for endpoint in endpoints:
        host, _, port = endpoint.rpartition(":")
        try:
            authenticate_broker(host, int(port), username, password, ssl_context=context)
        except (ScramAuthenticationError, ValueError) as error:
            failures.append(f"{endpoint}: {error}")
    if failures:
        raise ScramAuthenticationError("; ".join(failures))


def authenticate_broker(
    host: str,
    port: int,
    username: str,
    password: Password,
    *,
    ssl_context: ssl.SSLContext | None,
    timeout: float = 10.0,
) -> None:
    """One broker accepts the credentials (plaintext when `ssl_context` is None: tests only)."""
    client = ScramClient(username, password)
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw:
            connection = ssl_context.wrap_socket(raw, server_hostname=host) if ssl_context else raw
            with connection:
                kafka = _KafkaConnection(connection)
                kafka.sasl_handshake(MECHANISM)
                server_first = kafka.sasl_authenticate(client.first_message())
                server_final = kafka.sasl_authenticate(client.final_message(server_first))
                client.verify_server_final(server_final)
    except (OSError, struct.error) as error:
        raise ScramAuthenticationError(f"cannot talk to the broker: {error}") from None


class _KafkaConnection:
    """Kafka's framing for the two non-flexible requests used here (header v1, response v0)."""

    def __init__(self, connection: socket.socket) -> None:
        self._connection = connection
        self._correlation_id = 0

    def sasl_handshake(self, mechanism: str) -> None:
        body = self._request(_SASL_HANDSHAKE, _string(mechanism))
        error_code, count = struct.unpack_from(">hi", body)
        offered, offset = [], 6
        for _ in range(count):
            (length,) = struct.unpack_from(">h", body, offset)
            offered.append(body[offset + 2 : offset + 2 + length].decode())
            offset += 2 + length
        if error_code != 0 or mechanism not in offered:
            raise ScramAuthenticationError(
                f"the broker does not offer {mechanism} (error {error_code}; offers {offered})"
            )

    def sasl_authenticate(self, token: bytes) -> bytes:
        body = self._request(_SASL_AUTHENTICATE, struct.pack(">i", len(token)) + token)
        error_code, message_length = struct.unpack_from(">hh", body)
        offset = 4
        message = ""
        if message_length >= 0:
            message = body[offset : offset + message_length].decode(errors="replace")
            offset += message_length
        if error_code != 0:
            raise ScramAuthenticationError(
                f"the broker refused the credentials (error {error_code}: {message})"
            )
        (length,) = struct.unpack_from(">i", body, offset)
        return body[offset + 4 : offset + 4 + length]

    def _request(self, api_key: int, body: bytes) -> bytes:
        self._correlation_id += 1
        header = (
            struct.pack(">hhih", api_key, 1, self._correlation_id, len(_CLIENT_ID)) + _CLIENT_ID
        )
        payload = header + body
        self._connection.sendall(struct.pack(">i", len(payload)) + payload)
        (size,) = struct.unpack(">i", self._receive(4))
        response = self._receive(size)
        (correlation_id,) = struct.unpack_from(">i", response)
        if correlation_id != self._correlation_id:
            raise ScramAuthenticationError("the broker answered another request")
        return response[4:]

    def _receive(self, size: int) -> bytes:
        chunks: list[bytes] = []
        remaining = size
        while remaining:
            chunk = self._connection.recv(remaining)
            if not chunk:
                raise ScramAuthenticationError("the broker closed the connection")
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)


def _string(text: str) -> bytes:
    encoded = text.encode()
    return struct.pack(">h", len(encoded)) + encoded
