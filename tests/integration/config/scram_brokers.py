"""Fake MSK brokers for the SCRAM tests: real SASL/SCRAM-SHA-512 servers on 127.0.0.1.

`ScramBroker` speaks just enough Kafka (SaslHandshake v1, SaslAuthenticate v1) and the server
side of RFC 5802 to accept or refuse credentials, so the rotator's real handshake client is what
gets tested. `MskBrokers` models what MSK does with secrets: each cluster's brokers know the
AWSCURRENT value of the secrets associated with it *as of the last sync* (MSK syncs periodically,
reads only AWSCURRENT). `authenticate` is the SCRAM_AUTHENTICATOR the tests configure: it maps
the emulator's broker host names to the fake brokers and runs the real client against them.
"""

import base64
import contextlib
import hashlib
import hmac
import json
import secrets
import socket
import ssl
import struct
import threading
import urllib.parse
from typing import Any

from msk_autopilot.scram.handshake import ScramAuthenticationError, authenticate_broker
from msk_autopilot.scram.password import Password

SASL_HANDSHAKE, SASL_AUTHENTICATE = 17, 36
AUTHENTICATION_FAILED = 58


class ScramBroker:
    """One broker's SASL/SCRAM listener. Knobs let tests make it misbehave."""

    def __init__(
        self,
        *,
        mechanisms: tuple[str, ...] = ("SCRAM-SHA-512",),
        iterations: int = 4096,
        forge_signature: bool = False,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.users: dict[str, str] = {}
        self.mechanisms = mechanisms
        self.iterations = iterations
        self.forge_signature = forge_signature
        self.tls = tls
        self.attempts: list[str] = []  # usernames that tried
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def close(self) -> None:
        # shutdown() wakes the thread blocked in accept(); close() alone would not on Linux.
        with contextlib.suppress(OSError):  # not connected: nothing to shut down
            self._server.shutdown(socket.SHUT_RDWR)
        self._server.close()
        self._thread.join(timeout=5)

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._session, args=(connection,), daemon=True).start()

    def _session(self, raw: socket.socket) -> None:
        try:
            connection = self.tls.wrap_socket(raw, server_side=True) if self.tls else raw
            with connection:
                self._converse(connection)
        except (OSError, ssl.SSLError, struct.error):
            return

    def _converse(self, connection: socket.socket) -> None:
        state: dict[str, Any] = {}
        while True:
            api_key, correlation_id, body = _read_request(connection)
            if api_key == SASL_HANDSHAKE:
                offered = b"".join(_string(m) for m in self.mechanisms)
                requested = body[2 : 2 + struct.unpack_from(">h", body)[0]].decode()
                error = 0 if requested in self.mechanisms else 33
                payload = struct.pack(">hi", error, len(self.mechanisms)) + offered
                _respond(connection, correlation_id, payload)
            elif api_key == SASL_AUTHENTICATE:
                token = body[4 : 4 + struct.unpack_from(">i", body)[0]]
                answer = self._step(state, token)
                if answer is None:
                    message = b"Authentication failed: invalid credentials with SCRAM-SHA-512"
                    payload = struct.pack(">hh", AUTHENTICATION_FAILED, len(message)) + message
                    _respond(connection, correlation_id, payload + struct.pack(">iq", 0, 0))
                    return
                payload = struct.pack(">hhi", 0, -1, len(answer)) + answer + struct.pack(">q", 0)
                _respond(connection, correlation_id, payload)
            else:
                return

    def _step(self, state: dict[str, Any], token: bytes) -> bytes | None:
        text = token.decode()
        if "first_bare" not in state:
            bare = text.removeprefix("n,,")
            attributes = dict(part.split("=", 1) for part in bare.split(","))
            username = attributes["n"].replace("=2C", ",").replace("=3D", "=")
            self.attempts.append(username)
            password = self.users.get(username)
            if password is None and not self.forge_signature:
                return None
            salt = secrets.token_bytes(16)
            salted = hashlib.pbkdf2_hmac(
                "sha512", (password or "?").encode(), salt, self.iterations
            )
            nonce = attributes["r"] + secrets.token_urlsafe(12)
            first = f"r={nonce},s={base64.b64encode(salt).decode()},i={self.iterations}"
            state.update(first_bare=bare, server_first=first, salted=salted)
            return first.encode()
        without_proof, _, proof = text.rpartition(",p=")
        auth_message = f"{state['first_bare']},{state['server_first']},{without_proof}".encode()
        client_key = hmac.new(state["salted"], b"Client Key", "sha512").digest()
        stored_key = hashlib.sha512(client_key).digest()
        signature = hmac.new(stored_key, auth_message, "sha512").digest()
        expected = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
        if self.forge_signature:
            return b"v=" + base64.b64encode(secrets.token_bytes(64))
        if not hmac.compare_digest(expected, base64.b64decode(proof)):
            return None
        server_key = hmac.new(state["salted"], b"Server Key", "sha512").digest()
        return b"v=" + base64.b64encode(hmac.new(server_key, auth_message, "sha512").digest())


def _read_request(connection: socket.socket) -> tuple[int, int, bytes]:
    (size,) = struct.unpack(">i", _receive(connection, 4))
    request = _receive(connection, size)
    api_key, _version, correlation_id, client_id_length = struct.unpack_from(">hhih", request)
    return api_key, correlation_id, request[10 + client_id_length :]


def _respond(connection: socket.socket, correlation_id: int, payload: bytes) -> None:
    body = struct.pack(">i", correlation_id) + payload
    connection.sendall(struct.pack(">i", len(body)) + body)


def _receive(connection: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = connection.recv(size - len(data))
        if not chunk:
            raise OSError("closed")
        data += chunk
    return data


def _string(text: str) -> bytes:
    return struct.pack(">h", len(text)) + text.encode()


class MskBrokers:
    """Every cluster's brokers, with the credentials MSK loaded at the last `sync`."""

    def __init__(self) -> None:
        self.by_cluster: dict[str, ScramBroker] = {}
        self.by_host: dict[str, ScramBroker] = {}

    def sync(self, kafka: Any, secretsmanager: Any) -> None:
        """What MSK's periodic sync does: load the AWSCURRENT value of associated secrets."""
        for info in kafka.list_clusters_v2()["ClusterInfoList"]:
            arn = info["ClusterArn"]
            sasl = info["Provisioned"]["ClientAuthentication"]["Sasl"]
            if not sasl["Scram"]["Enabled"]:
                continue
            broker = self.by_cluster.setdefault(arn, ScramBroker())
            hosts = kafka.get_bootstrap_brokers(ClusterArn=arn)["BootstrapBrokerStringSaslScram"]
            for endpoint in hosts.split(","):
                self.by_host[endpoint.rpartition(":")[0]] = broker
            users: dict[str, str] = {}
            for secret_arn in kafka.list_scram_secrets(ClusterArn=arn)["SecretArnList"]:
                value = secretsmanager.get_secret_value(SecretId=secret_arn)  # AWSCURRENT
                credentials = json.loads(value["SecretString"])
                users[credentials["username"]] = credentials["password"]
            broker.users = users

    def accepts(self, cluster_arn: str, username: str, password: str) -> bool:
        try:
            authenticate_broker(
                "127.0.0.1",
                self.by_cluster[cluster_arn].port,
                username,
                Password(password),
                ssl_context=None,
            )
        except ScramAuthenticationError:
            return False
        return True

    def close(self) -> None:
        for broker in self.by_cluster.values():
            broker.close()
        self.by_cluster.clear()
        self.by_host.clear()


BROKERS = MskBrokers()


def authenticate(bootstrap_brokers: str, username: str, password: Password) -> None:
    """SCRAM_AUTHENTICATOR for the tests: the real client against the fake brokers."""
    for endpoint in bootstrap_brokers.split(","):
        host = endpoint.rpartition(":")[0]
        broker = BROKERS.by_host.get(host)
        if broker is None:
            raise ScramAuthenticationError(f"{endpoint}: no route to the broker")
        authenticate_broker("127.0.0.1", broker.port, username, password, ssl_context=None)


def echoing_authenticate(*arguments: object) -> None:
    """A careless SCRAM_AUTHENTICATOR: its error shows what it was given, escaped, URL-encoded
    and in base64, as a library's error might."""
    shown = repr(arguments)
    password = str(arguments[2]).encode()
    raise ScramAuthenticationError(
        f"refused {shown} (url {urllib.parse.quote(shown)}, "
        f"base64 {base64.b64encode(password).decode()})"
    )
