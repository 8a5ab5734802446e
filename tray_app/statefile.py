"""What the app itself learned: the expiry ECR's API reported when we logged in.

``<state dir>/logins.json``::

    {"version": 1, "registries": {"<host>": {"expires_at": "...Z", "profile": "dev",
                                            "logged_in_at": "...Z"}}}
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from tray_app.errors import SourceError
from tray_app.fileio import read_json_file, write_json_atomic
from tray_app.record import record
from tray_app.timeutil import iso_utc, parse_time

LOGINS_FILE = "logins.json"


@record
class RecordedLogin:
    """A login this app made, with the expiry ECR told it."""

    host: str
    expires_at: datetime
    profile: str | None = None
    logged_in_at: datetime | None = None


def logins_path(state_dir: Path) -> Path:
    return state_dir / LOGINS_FILE


def read_recorded_logins(state_dir: Path) -> dict[str, RecordedLogin]:
    """Host -> recorded login. A damaged file raises SourceError; nothing is rewritten."""
    path = logins_path(state_dir)
    document = read_json_file(path)
    if document is None:
        return {}
    entries = document.get("registries") if isinstance(document, dict) else None
    if not isinstance(entries, dict):
        raise SourceError(f"{path}: no `registries` table",
                          "delete the file; the next `ecr-token-tray login` recreates it")
    recorded = {}
    for host, entry in entries.items():
        expires = parse_time(entry.get("expires_at")) if isinstance(entry, dict) else None
        if expires is None:
            continue
        profile = entry.get("profile")
        recorded[host] = RecordedLogin(
            host=host,
            expires_at=expires,
            profile=profile if isinstance(profile, str) else None,
            logged_in_at=parse_time(entry.get("logged_in_at", "")),
        )
    return recorded


def record_logins(state_dir: Path, logins: list[RecordedLogin]) -> None:
    """Merge fresh records into the file (atomic, 0600); other hosts are kept, also those
    another process (the tray, a CLI `login`) records at the same moment."""
    with _exclusive(state_dir / "locks" / "logins.lock"):
        try:
            current = read_recorded_logins(state_dir)
        except SourceError:
            current = {}  # a damaged state file is ours to replace
        for login in logins:
            current[login.host] = login
        _write_logins(state_dir, current)


@contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """An inter-process lock (flock / msvcrt) held for one read-merge-write."""
    lock_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    with os.fdopen(fd, "r+b") as handle:
        if sys.platform == "win32":
            import msvcrt

            msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)  # retries for ~10 s
        else:
            import fcntl

            fcntl.flock(handle, fcntl.LOCK_EX)  # held for milliseconds by any writer
        yield  # closing the file releases the lock


def _write_logins(state_dir: Path, current: dict[str, RecordedLogin]) -> None:
    document = {
        "version": 1,
        "registries": {
            host: {
                "expires_at": iso_utc(entry.expires_at),
                "profile": entry.profile,
                "logged_in_at": iso_utc(entry.logged_in_at),
            }
            for host, entry in sorted(current.items())
        },
    }
    write_json_atomic(logins_path(state_dir), document)
