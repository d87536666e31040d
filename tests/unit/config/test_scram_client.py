"""The SCRAM client's arithmetic (RFC test vectors), the secret value format, and the
authenticator hook."""

import base64
import json

import msgspec
import pytest

from msk_autopilot.scram.handshake import ScramAuthenticationError, ScramClient
from msk_autopilot.scram.password import Password
from msk_autopilot.scram.rotation import Credentials, RotationRejected


@pytest.mark.parametrize(
    ("hash_name", "nonce", "server_first", "client_final", "server_final"),
    [
        (  # RFC 5802, section 5
            "sha1",
            "fyko+d2lbbFgONRv9qkxdawL",
            "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
            "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
            "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=",
        ),
        (  # RFC 7677, section 3
            "sha256",
            "rOprNGfwEbeRWgbNEkqO",
            "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,"
            "i=4096",
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
            "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
            "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
        ),
    ],
)
def test_rfc_test_vectors(hash_name, nonce, server_first, client_final, server_final):
    client = ScramClient("user", Password("pencil"), nonce=nonce, hash_name=hash_name)
    assert client.first_message() == f"n,,n=user,r={nonce}".encode()
    assert client.final_message(server_first.encode()) == client_final.encode()
    client.verify_server_final(server_final.encode())
    forged = base64.b64encode(bytes(len(base64.b64decode(server_final[2:]))))
    with pytest.raises(ScramAuthenticationError, match="signature is wrong"):
        client.verify_server_final(b"v=" + forged)
    with pytest.raises(ScramAuthenticationError, match="not valid"):
        client.verify_server_final(b"v=not*base64")


@pytest.mark.parametrize(
    ("server_first", "problem"),
    [
        (b"r=someone-elses-nonce,s=QSXCR+Q6sek8bf92,i=4096", "not valid"),
        (b"r=abc,s=QSXCR+Q6sek8bf92,i=4096", "not valid"),  # echoes the nonce, adds nothing
        (b"m=ext,r=abcdef,s=QSXCR+Q6sek8bf92,i=4096", "not valid"),
        (b"r=abcdef,i=4096", "lacks salt or iterations"),
        (b"r=abcdef,s=QSXCR+Q6sek8bf92,i=100", "100 iterations, fewer than 4096"),
    ],
)
def test_a_bad_server_first_message_is_refused(server_first, problem):
    client = ScramClient("user", Password("pencil"), nonce="abc")
    with pytest.raises(ScramAuthenticationError, match=problem):
        client.final_message(server_first)


def test_server_errors_are_reported():
    client = ScramClient("user", Password("pencil"), nonce="abc")
    with pytest.raises(ScramAuthenticationError, match="refused the proof: invalid-proof"):
        client.verify_server_final(b"e=invalid-proof")


def test_a_password_shows_only_stars_however_it_is_formatted():
    password = Password("Tr0ub4dor\\&3")
    shown = [repr(password), str(password), f"{password}", f"{password!r:>40}"]
    shown += ["%s %r" % (password, password)]  # noqa: UP031  as the logging module formats
    shown += [repr([password]), json.dumps({"p": password}, default=str)]
    assert not any("Tr0ub4dor" in text for text in shown)
    assert "***" in str(password)
    for encode in (json.dumps, msgspec.json.encode):
        with pytest.raises(TypeError):
            encode(password)
    assert password.reveal() == "Tr0ub4dor\\&3"


def test_credentials_keep_other_keys_and_never_show_the_password():
    credentials = Credentials.parse(
        '{"username": "app", "password": "hunter2", "engine": "kafka"}', "the value"
    )
    assert "hunter2" not in repr(credentials)
    assert credentials.password.reveal() == "hunter2"
    assert "hunter2" not in repr(ScramClient("app", Password("hunter2")))
    assert credentials.other == {"engine": "kafka"}
    assert '"engine": "kafka"' in credentials.secret_string()


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (None, "is not JSON"),
        ("[1, 2]", "is not JSON"),
        ('{"username": "", "password": "x"}', "has no username"),
        ('{"username": "app", "password": 7}', "has no password"),
    ],
)
def test_malformed_secret_values_are_rejected(value, problem):
    with pytest.raises(RotationRejected, match=problem):
        Credentials.parse(value, "the value")
