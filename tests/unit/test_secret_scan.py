"""The secrets scan itself (tests/conftest.py): a secret seen in an AWS call is found in output
however it was written, and only where it was written."""

import base64
import json
import urllib.parse

import boto3
import pytest

SECRET = "Tr0ub4dor\\&3-current"  # a backslash, which repr and JSON escape


@pytest.fixture
def seen_secret(msk_emulator, monkeypatch) -> str:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    secrets = boto3.client("secretsmanager", region_name="us-east-1")
    secrets.create_secret(Name="AmazonMSK_scan", SecretString=json.dumps({"password": SECRET}))
    return SECRET


@pytest.mark.parametrize(
    ("written", "how"),
    [
        (lambda s: f"refused {s}", "as is"),
        (lambda s: f"refused {(s,)!r}", "repr"),
        (lambda s: json.dumps({"error": s}), "JSON"),
        (lambda s: f"https://example.com/?p={urllib.parse.quote(s, safe='')}", "URL-encoded"),
        (lambda s: f"p={urllib.parse.quote_plus(s)}", "URL-encoded form"),
        (lambda s: json.dumps({"log": repr(s)}), "in JSON"),
    ]
    + [  # base64 of the secret inside a longer text, at each of the three alignments
        (lambda s, n=n: base64.b64encode(b"x" * n + s.encode() + b"yz").decode(), "base64")
        for n in range(3)
    ],
)
def test_a_seen_secret_is_found_in_any_encoding(seen_secret, secret_leaks, written, how):
    (found,) = secret_leaks([("SNS message", "nothing here"), ("log", written(seen_secret))])
    assert found.startswith("log (")
    assert how in found
    assert seen_secret not in found


def test_output_without_the_secret_passes(seen_secret, secret_leaks):
    assert secret_leaks([("outcome", json.dumps({"password": "***", "user": "app"}))]) == []
