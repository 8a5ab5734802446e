"""Logging to a rotating file in the platform's user log dir, with secrets redacted.

Two layers keep secrets out of logs: every secret the app handles is registered with
:func:`register_secret` (exact-match redaction, with its docker ``auth`` form), and a pattern
pass masks anything shaped like a token, an AWS key or an ``Authorization`` header that
slipped through. Tracebacks (``exc_info``) and stack dumps go through the same redaction.
The log file and its rotated backups are created mode 0600 in a 0700 folder.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import logging.handlers
import os
import re
import threading
from pathlib import Path

LOG_FILE = "ecr-token-tray.log"
MAX_BYTES = 1024 * 1024
BACKUPS = 3
MASK = "<redacted>"
FILE_MODE = 0o600

_known_secrets: set[str] = set()
_lock = threading.Lock()
_SECRET_KEY = (r"secret|password|passwd|token|accesstoken|refreshtoken|clientsecret|"
               r"secret[_-]?access[_-]?key|sessiontoken|session[_-]token")
_PATTERNS = [
    # An Authorization header, any scheme (Basic, Bearer, AWS4-HMAC-SHA256 ...): whole value.
    re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?)[^\"'\r\n]+"),
    re.compile(rf"(?i)((?:{_SECRET_KEY})[\"']?\s*[:=]\s*[\"']?)[^\s\"',}}]+"),
    re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"),
    # AWS SSO access/refresh tokens and STS session tokens, by their well-known prefixes.
    re.compile(r"\b(?:aoa|aor)AAAAA[A-Za-z0-9+/=_:.-]{8,}"),
    re.compile(r"\b(?:IQoJb3JpZ2luX2Vj|FwoGZXIvYXdzE)[A-Za-z0-9+/=_-]*"),
    re.compile(r"[A-Za-z0-9+/]{120,}={0,2}"),  # long base64 blobs: ECR tokens
]


def register_secret(secret: str | None) -> None:
    """Remember a secret so that any log line containing it (or ``AWS:<it>`` in base64, the
    docker ``auth`` form of an ECR password) is masked."""
    if not secret or len(secret) < 6:
        return
    auth_form = base64.b64encode(f"AWS:{secret}".encode()).decode()
    with _lock:
        _known_secrets.update((secret, auth_form))


def redact(text: str) -> str:
    with _lock:
        secrets = sorted(_known_secrets, key=len, reverse=True)
    for secret in secrets:
        text = text.replace(secret, MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + MASK, text)
    return text


class RedactingFormatter(logging.Formatter):
    """Redacts the whole formatted record; tracebacks are redacted before they are cached on
    the record (``record.exc_text``), so no other handler sees them raw either."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))

    def formatException(self, ei) -> str:
        return redact(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return redact(super().formatStack(stack_info))


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A RotatingFileHandler whose files (the live one and each new one after a rollover)
    are created 0600 whatever the umask, and tightened to 0600 if they already exist."""

    def _open(self):
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
        # An older, looser file gets tightened; another user's file keeps its mode.
        with contextlib.suppress(OSError):
            os.chmod(self.baseFilename, FILE_MODE)
        return os.fdopen(fd, "a", encoding=self.encoding, errors=self.errors)


def log_file(log_dir: Path) -> Path:
    return log_dir / LOG_FILE


def setup_logging(log_dir: Path | None, debug: bool = False, *, max_bytes: int = MAX_BYTES,
                  backups: int = BACKUPS) -> Path | None:
    """Log to ``<log_dir>/ecr-token-tray.log`` (rotated at ``max_bytes`` keeping ``backups``
    old files, 0600). None: stderr only, warnings."""
    root = logging.getLogger("tray_app")
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    formatter = RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    if log_dir is None:
        handler: logging.Handler = logging.StreamHandler()
        handler.setLevel(logging.DEBUG if debug else logging.WARNING)
        handler.setFormatter(formatter)
        root.addHandler(handler)
        return None
    log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = log_file(log_dir)
    handler = PrivateRotatingFileHandler(path, maxBytes=max_bytes, backupCount=backups,
                                         encoding="utf-8")
    handler.setFormatter(formatter)
    root.addHandler(handler)
    return path
