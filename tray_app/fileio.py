"""Safe reading and atomic writing of small files we share with other tools."""

from __future__ import annotations

import codecs
import errno
import json
import os
import stat
from pathlib import Path

from tray_app.errors import SourceError

MAX_FILE_BYTES = 10 * 1024 * 1024  # no credential file is legitimately larger


def unreadable_hint(path: Path, platform: str | None = None) -> str:
    from tray_app.platforms import file_modes_apply  # only on this error: `status` stays lean

    if file_modes_apply(platform):
        return f"run `chmod u+r {path}` or check who owns it"
    # Windows: an ACL, or another program holding the file open (a sharing violation).
    return ("check its owner and permissions (Properties > Security), or close the program"
            " that holds it open")


def read_json_file(path: Path) -> object | None:
    """Parse a JSON file; None when it does not exist. Trouble raises SourceError naming it."""
    try:
        raw = _read_regular_file(path, MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        return None
    except PermissionError:
        raise SourceError(f"{path}: no permission to read it", unreadable_hint(path)) from None
    except OSError as error:
        hint = ("the path is a symlink loop; point it at a real file" if error.errno == errno.ELOOP
                else "check the path and the disk")
        raise SourceError(f"{path}: cannot read it ({error.strerror})", hint) from None
    if len(raw) > MAX_FILE_BYTES:
        raise SourceError(f"{path}: larger than {MAX_FILE_BYTES // 2**20} MiB, not read",
                          "the file is not a credentials file; move it aside")
    if not raw.strip():
        raise SourceError(f"{path}: file is empty", "remove it or log in again to recreate it")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise SourceError(f"{path}: saved as UTF-16, not UTF-8",
                          "save it again as UTF-8 (PowerShell: `Out-File -Encoding utf8`)")
    try:
        document = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise SourceError(f"{path}: not text (binary data)",
                          "move it aside and log in again") from None
    except json.JSONDecodeError as error:
        raise SourceError(f"{path}: not valid JSON (line {error.lineno}, column {error.colno}:"
                          f" {error.msg})", "fix or remove the file") from None
    except RecursionError:
        raise SourceError(f"{path}: JSON nested too deeply", "fix or remove the file") from None
    if document is None:  # `null`: None is how callers learn that a file is absent
        raise SourceError(f"{path}: holds only `null`", "fix or remove the file")
    return document


def _read_regular_file(path: Path, limit: int) -> bytes:
    """Read at most ``limit`` bytes; a FIFO or device is refused instead of blocking on it."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        regular = stat.S_ISREG(os.fstat(fd).st_mode)
    except OSError:
        os.close(fd)
        raise
    if not regular:
        os.close(fd)
        raise SourceError(f"{path}: not a regular file", "replace it with a file, or remove it")
    with os.fdopen(fd, "rb") as handle:
        return handle.read(limit)


STALE_TEMP_SECONDS = 600  # a live writer holds its temp file for milliseconds


def remove_stale_temps(path: Path) -> None:
    """Delete the temp files (``.<name>.*.tmp``, ours only) that a writer of ``path`` killed
    between creating one and renaming it (SIGKILL, power loss) left behind."""
    import glob
    import time

    cutoff = time.time() - STALE_TEMP_SECONDS
    for temp in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        try:
            info = temp.lstat()
            if stat.S_ISREG(info.st_mode) and info.st_mtime < cutoff:
                temp.unlink()
        except OSError:
            continue  # gone already, or not ours to remove


def write_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write via a temp file in the same folder, fsync, then rename over the target."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    import tempfile  # writers only: `status` never writes, and starts faster without it

    remove_stale_temps(path)

    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp_name, mode)  # mkstemp gives 0600; a caller may keep another mode
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def replace_small_file(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Atomic like write_atomic, for a small derived file the next snapshot rewrites anyway
    (the prompt summary): no fsync, which can cost milliseconds on a busy disk, and no
    tempfile module, which would cost `status` its import. The temp name carries the pid
    and thread, so two writers (the tray and a `status`) never share one."""
    import _thread  # built in, unlike threading

    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temp = path.with_name(f".{path.name}.{os.getpid()}.{_thread.get_ident()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0),
                 mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(temp, mode)  # an old temp file of a dead process may have had another mode
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def write_json_atomic(path: Path, document: object, mode: int = 0o600) -> None:
    write_atomic(path, (json.dumps(document, indent=2, sort_keys=False) + "\n").encode(), mode)
