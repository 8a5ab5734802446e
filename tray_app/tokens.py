"""Decode docker ``auth`` values and ECR tokens, and read their expiry.

An ECR password is base64 of a JSON object whose ``expiration`` is epoch seconds.
That layout is undocumented, so everything here is best-effort; failures raise
:class:`TokenError` with a message that never contains the secret.
"""

from __future__ import annotations

import binascii  # not base64: it imports struct, a millisecond of every `status`
import json
from datetime import datetime

from tray_app.errors import TokenError
from tray_app.timeutil import from_epoch


class BasicCredential:
    """A username and password. Deliberately not a record (a tuple): nothing can unpack,
    print, format or serialise the password by accident; repr hides it."""

    __slots__ = ("password", "username")
    __hash__ = None  # compared by value, never a dict key

    def __init__(self, username: str, password: str) -> None:
        self.username = username
        self.password = password

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, BasicCredential) and self.username == other.username
                and self.password == other.password)

    def __repr__(self) -> str:  # never show the password
        return f"BasicCredential(username={self.username!r}, password=<redacted>)"


def b64decode_lenient(text: str) -> bytes:
    """Standard or URL-safe base64, with or without padding."""
    if not isinstance(text, str):
        raise TokenError("value is not a string")
    compact = "".join(text.split())
    compact += "=" * (-len(compact) % 4)
    try:
        return binascii.a2b_base64(compact.replace("-", "+").replace("_", "/"), strict_mode=True)
    except (binascii.Error, ValueError) as error:
        raise TokenError("value is not base64") from error


def decode_docker_auth(auth: object) -> BasicCredential:
    """``auths[host].auth`` (base64 of ``user:password``) -> credential."""
    if not isinstance(auth, str):
        raise TokenError(f"`auth` is {json_type_name(auth)}, not a base64 string")
    if not auth:
        raise TokenError("`auth` is empty")
    try:
        text = b64decode_lenient(auth).decode("utf-8")
    except UnicodeDecodeError as error:
        raise TokenError("`auth` does not decode to text") from error
    except TokenError as error:
        raise TokenError("`auth` is not base64") from error
    username, colon, password = text.partition(":")
    if not colon:
        raise TokenError("`auth` has no `user:password` colon")
    return BasicCredential(username, password)


def json_type_name(value: object) -> str:
    """How a JSON user would call a parsed value's type: ``a number``, ``an array``..."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    names = {dict: "an object", list: "an array", str: "a string", type(None): "null"}
    return names.get(type(value), f"a {type(value).__name__}")


def ecr_password_expiry(password: str) -> datetime | None:
    """The ``expiration`` inside an ECR password; None when the token does not say."""
    try:
        payload = json.loads(b64decode_lenient(password))
    except (TokenError, ValueError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(payload, dict):
        return None
    return from_epoch(payload.get("expiration")) if "expiration" in payload else None


def make_ecr_password(expiration: datetime, payload: str = "cGF5bG9hZA==") -> str:
    """Build a password in ECR's observed format (tests, benchmarks and stand-ins use it)."""
    document = {
        "payload": payload,
        "datakey": "ZGF0YWtleQ==",
        "version": "2",
        "type": "DATA_KEY",
        "expiration": int(expiration.timestamp()),
    }
    return _b64encode(json.dumps(document).encode())


def make_authorization_token(password: str, username: str = "AWS") -> str:
    """What GetAuthorizationToken returns and ``docker login`` stores as ``auth``."""
    return _b64encode(f"{username}:{password}".encode())


def _b64encode(data: bytes) -> str:
    return binascii.b2a_base64(data, newline=False).decode("ascii")
