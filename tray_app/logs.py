"""Logging to a rotating file in the platform's user log dir, with secrets redacted.

Two layers keep secrets out of logs: every secret the app handles is registered with
:func:`register_secret` (exact-match redaction), and a pattern pass masks anything shaped
like a token, an AWS key or an ``Authorization`` header that slipped through.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
import threading
from pathlib import Path

LOG_FILE = "ecr-token-tray.log"
MAX_BYTES = 1024 * 1024
BACKUPS = 3
MASK = "<redacted>"

_known_secrets: set[str] = set()
_lock = threading.Lock()
_PATTERNS = [
    re.compile(r"(?i)(authorization:\s*(?:basic|bearer)\s+)\S+"),
    re.compile(r"(?i)((?:secret|password|token|accesstoken|refreshtoken|clientsecret|"
               r"secretaccesskey|sessiontoken)[\"']?\s*[:=]\s*[\"']?)[^\s\"',}]+"),
    re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"),
    re.compile(r"\b[A-Za-z0-9+/]{120,}={0,2}"),  # long base64 blobs: ECR tokens
]


def register_secret(secret: str | None) -> None:
    """Remember a secret so that any log line containing it is masked."""
    if secret and len(secret) >= 6:
        with _lock:
            _known_secrets.add(secret)


def redact(text: str) -> str:
    with _lock:
        secrets = sorted(_known_secrets, key=len, reverse=True)
    for secret in secrets:
        text = text.replace(secret, MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + MASK, text)
    return text


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def log_file(log_dir: Path) -> Path:
    return log_dir / LOG_FILE


def setup_logging(log_dir: Path | None, debug: bool = False) -> Path | None:
    """Log to ``<log_dir>/ecr-token-tray.log`` (rotated, 0600). None: stderr only, warnings."""
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
    path.touch(mode=0o600, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=MAX_BYTES,
                                                   backupCount=BACKUPS, encoding="utf-8")
    handler.setFormatter(formatter)
    root.addHandler(handler)
    return path
