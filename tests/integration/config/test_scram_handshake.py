"""The SASL/SCRAM-SHA-512 client against local brokers over real sockets (plaintext and TLS)."""

import datetime
import ipaddress
import socket
import ssl
from collections.abc import Iterator

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from scram_brokers import ScramBroker

from msk_autopilot.scram.handshake import (
    ScramAuthenticationError,
    authenticate,
    authenticate_broker,
)
from msk_autopilot.scram.password import Password

PASSWORD = "s3cret-Pa55word"


@pytest.fixture
def broker() -> Iterator[ScramBroker]:
    server = ScramBroker()
    server.users = {"alice": PASSWORD, "bob,=odd": PASSWORD}
    yield server
    server.close()


def check(broker: ScramBroker, username: str, password: str) -> None:
    authenticate_broker("127.0.0.1", broker.port, username, Password(password), ssl_context=None)


def test_known_credentials_authenticate(broker):
    check(broker, "alice", PASSWORD)
    check(broker, "bob,=odd", PASSWORD)  # escaped as RFC 5802 saslname
    assert broker.attempts == ["alice", "bob,=odd"]


@pytest.mark.parametrize(("username", "password"), [("alice", "wrong"), ("mallory", PASSWORD)])
def test_wrong_credentials_are_refused_without_echoing_the_password(broker, username, password):
    with pytest.raises(ScramAuthenticationError, match="error 58") as refused:
        check(broker, username, password)
    assert password not in str(refused.value)


def test_a_broker_that_does_not_know_the_user_cannot_fake_success():
    forger = ScramBroker(forge_signature=True)  # answers "v=<anything>" to any proof
    try:
        with pytest.raises(ScramAuthenticationError, match="signature is wrong"):
            check(forger, "alice", PASSWORD)
    finally:
        forger.close()


def test_too_few_iterations_are_refused():
    weak = ScramBroker(iterations=1000)
    weak.users = {"alice": PASSWORD}
    try:
        with pytest.raises(ScramAuthenticationError, match="1000 iterations"):
            check(weak, "alice", PASSWORD)
    finally:
        weak.close()


def test_a_broker_without_scram_sha_512_is_refused():
    plain = ScramBroker(mechanisms=("PLAIN", "SCRAM-SHA-256"))
    try:
        with pytest.raises(ScramAuthenticationError, match="does not offer SCRAM-SHA-512"):
            check(plain, "alice", PASSWORD)
    finally:
        plain.close()


def test_an_unreachable_broker_is_a_failure():
    with socket.socket() as unused:  # bound, never listening: connections are refused
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
        with pytest.raises(ScramAuthenticationError, match="cannot talk to the broker"):
            authenticate_broker(
                "127.0.0.1", port, "alice", Password(PASSWORD), ssl_context=None, timeout=2
            )


@pytest.fixture
def tls_contexts(tmp_path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a self-signed certificate for 127.0.0.1, a client trusting it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM)
    (tmp_path / "cert.pem").write_bytes(pem)
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    return server, ssl.create_default_context(cadata=pem.decode())


def test_tls_brokers_are_verified(tls_contexts):
    server_context, trusting_client = tls_contexts
    secure = ScramBroker(tls=server_context)
    secure.users = {"alice": PASSWORD}
    try:
        authenticate_broker(
            "127.0.0.1", secure.port, "alice", Password(PASSWORD), ssl_context=trusting_client
        )
        # The default authenticator verifies certificates against the system's authorities.
        with pytest.raises(ScramAuthenticationError, match="CERTIFICATE_VERIFY_FAILED"):
            authenticate(f"127.0.0.1:{secure.port}", "alice", Password(PASSWORD))
    finally:
        secure.close()


def test_the_default_authenticator_asks_every_broker(tls_contexts):
    server_context, trusting_client = tls_contexts
    knows = ScramBroker(tls=server_context)
    knows.users = {"alice": PASSWORD}
    forgot = ScramBroker(tls=server_context)
    try:
        bootstrap = f"127.0.0.1:{knows.port},127.0.0.1:{forgot.port}"
        with pytest.raises(ScramAuthenticationError) as refused:
            authenticate(bootstrap, "alice", Password(PASSWORD), tls=trusting_client)
    finally:
        knows.close()
        forgot.close()
    assert str(refused.value).startswith(f"127.0.0.1:{forgot.port}: the broker refused")
    assert f":{knows.port}" not in str(refused.value)
    with pytest.raises(ScramAuthenticationError, match="no SASL/SCRAM bootstrap brokers"):
        authenticate(" ", "alice", Password(PASSWORD))
