"""One tray per user: an OS lock on a file in the runtime (else state) dir.

The kernel drops the lock when the process dies, so a lock file left by a crash is simply
locked again by the next start (the stale PID inside is overwritten). A clean stop removes
the file while still holding the lock; a starter that locked a file just removed this way
notices (the path no longer names its file) and tries again.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

from tray_app.settings import Paths

LOCK_NAME = "ecr-token-tray.lock"


def lock_path(paths: Paths) -> Path:
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if sys.platform.startswith("linux") and runtime and Path(runtime).is_dir():
        return Path(runtime) / LOCK_NAME
    return paths.state_dir / LOCK_NAME


class SingleInstance:
    """``acquire()`` -> True when this process is the only tray; hold it until ``release()``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        for _attempt in range(5):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            if not _try_lock(fd):
                os.close(fd)
                return False
            if _still_named(self.path, fd):
                break
            _unlock(fd)  # the previous tray removed it as we locked it: take the new one
            os.close(fd)
        else:
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def holder_pid(self) -> int | None:
        try:
            return int(self.path.read_text().strip() or 0) or None
        except (OSError, ValueError):
            return None

    def release(self) -> None:
        """Remove the file (a clean stop leaves nothing behind), then unlock."""
        if self._fd is not None:
            if sys.platform != "win32" and _still_named(self.path, self._fd):
                with contextlib.suppress(OSError):
                    self.path.unlink()
            _unlock(self._fd)
            os.close(self._fd)
            self._fd = None


def _still_named(path: Path, fd: int) -> bool:
    try:
        named, opened = os.stat(path), os.fstat(fd)
    except OSError:
        return False
    return (named.st_dev, named.st_ino) == (opened.st_dev, opened.st_ino)


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":
        import msvcrt
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _unlock(fd: int) -> None:
    if sys.platform == "win32":
        import msvcrt
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        return
    import fcntl
    fcntl.flock(fd, fcntl.LOCK_UN)
