"""Docker `auth` values and ECR passwords in their real format."""

import base64
import json
from datetime import UTC, datetime

import pytest

from tests.builders import docker_auth, ecr_password, in_
from tray_app.errors import TokenError, TrayAppError
from tray_app.tokens import (
    b64decode_lenient,
    decode_docker_auth,
    ecr_password_expiry,
    make_authorization_token,
    make_ecr_password,
)


def test_real_format_round_trip_gives_the_expiry_back():
    expires = in_(11 * 60 + 2)
    credential = decode_docker_auth(make_authorization_token(make_ecr_password(expires)))
    assert credential.username == "AWS"
    assert ecr_password_expiry(credential.password) == expires


def test_password_layout_matches_what_ecr_issues():
    document = json.loads(base64.b64decode(ecr_password(30)))
    assert set(document) == {"payload", "datakey", "version", "type", "expiration"}
    assert isinstance(document["expiration"], int)


def test_old_tokens_without_expiration_give_none():
    assert ecr_password_expiry(ecr_password(None)) is None


def test_missing_padding_and_url_safe_alphabet_are_tolerated():
    expires = in_(90)
    password = make_ecr_password(expires)
    assert ecr_password_expiry(password.rstrip("=")) == expires
    url_safe = password.replace("+", "-").replace("/", "_")
    assert ecr_password_expiry(url_safe) == expires
    assert b64decode_lenient(base64.urlsafe_b64encode(b"\xfb\xff:x").decode().rstrip("=")) == (
        b"\xfb\xff:x")
    assert b64decode_lenient("QV dT\nOng=") == b"AWS:x"


def test_expiration_in_milliseconds_is_understood():
    expires = in_(60)
    document = {"payload": "p", "expiration": int(expires.timestamp() * 1000)}
    password = base64.b64encode(json.dumps(document).encode()).decode()
    assert ecr_password_expiry(password) == expires


@pytest.mark.parametrize(("auth", "message"), [
    (12345, "`auth` is a number, not a base64 string"),
    (["x"], "`auth` is an array"),
    ("", "`auth` is empty"),
    ("not base64 at all!", "`auth` is not base64"),
    (base64.b64encode(b"no-colon-here").decode(), "no `user:password` colon"),
    (base64.b64encode(b"\xff\xfe:\x00").decode(), "does not decode to text"),
])
def test_undecodable_auth_raises_token_error_without_the_value(auth, message):
    with pytest.raises(TokenError) as caught:
        decode_docker_auth(auth)
    assert message in str(caught.value)
    assert isinstance(caught.value, TrayAppError)
    if isinstance(auth, str) and len(auth) > 4:
        assert auth not in str(caught.value)


@pytest.mark.parametrize("password", [
    "", "plain-password", "e30=",  # {} : no expiration
    base64.b64encode(b"[1, 2]").decode(),
    base64.b64encode(b'{"expiration": "soon"}').decode(),
    base64.b64encode(b'{"expiration": 1e400}').decode(),
    base64.b64encode(json.dumps({"expiration": 10**400}).encode()).decode(),
    base64.b64encode(b'{"expiration": true}').decode(),
    base64.b64encode(b"[" * 100000 + b"]" * 100000).decode(),
])
def test_odd_passwords_give_no_expiry_and_never_raise(password):
    assert ecr_password_expiry(password) is None


def test_credential_repr_hides_the_password():
    credential = decode_docker_auth(docker_auth(30, payload="c2VjcmV0LXBheWxvYWQ="))
    assert credential.password not in repr(credential)
    assert "redacted" in repr(credential)


def test_expiry_is_aware_utc():
    expiry = ecr_password_expiry(ecr_password(5))
    assert expiry.tzinfo is not None and expiry.utcoffset().total_seconds() == 0
    assert expiry > datetime.now(UTC)


def test_a_credential_never_gives_its_password_away_by_accident():
    credential = decode_docker_auth(make_authorization_token("s3cret-pw"))
    assert credential.password == "s3cret-pw"
    assert "s3cret-pw" not in repr(credential) and "s3cret-pw" not in f"{credential}"
    with pytest.raises(TypeError):
        json.dumps(credential)
    with pytest.raises(TypeError):
        _user, _password = credential
