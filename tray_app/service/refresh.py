"""Refreshing the prompt summary in the background, so that a prompt never waits for it.

``ecr-token-tray prompt`` (starship, tmux, waybar) answers at once from the summary it
has; when that summary is missing or stale it starts one detached ``status --quiet`` and
returns (a snapshot may wait 5 s for a credential helper and 15 s for kubectl; starship
gives a command 500 ms). The shell functions of ``prompt init`` do the same in shell.

Two files keep many prompts from starting many refreshes:

- the marker (``.prompt-refresh``, shared with the shell functions): its mtime says when a
  refresh last started; another starts only when a login file changed after that, so a
  summary that cannot be written (a read-only folder) does not cost a refresh per prompt;
- the lock (``prompt-refresh.lock``): made with ``O_EXCL`` while a refresh runs, so prompts
  racing each other (several shells, tmux and a bar) start one refresh between them. A
  waiter process removes it when the refresh ends; one older than ``LOCK_STALE_SECONDS``
  (a killed waiter) no longer counts.
"""

from __future__ import annotations

import contextlib  # loaded by the interpreter already
import os
import sys

from tray_app import APP_NAME

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (2 ms of `prompt`)
if TYPE_CHECKING:
    from pathlib import Path

    from tray_app.settings import Paths

MARKER_FILE = ".prompt-refresh"
LOCK_FILE = "prompt-refresh.lock"
LOCK_STALE_SECONDS = 120.0  # longer than a snapshot can take (helpers 5 s, kubectl 15 s)


def refresh_command() -> list[str]:
    """How a prompt starts `status --quiet`: this very program, by absolute path, so that it
    works whatever PATH the shell (or a detached child) has later."""
    script = sys.argv[0] if sys.argv else ""
    if os.path.basename(script) == APP_NAME and os.path.isfile(script):
        return [os.path.abspath(script), "status", "--quiet"]
    return [sys.executable, "-m", "tray_app", "status", "--quiet"]


def start_background_refresh(paths: Paths, changed_files: list[Path]) -> bool:
    """Start one detached refresh of the summary unless one is running or nothing changed
    since the last one started (``changed_files``: the login files). Returns at once;
    True when a refresh was started."""
    marker = paths.state_dir / MARKER_FILE
    try:
        started = os.stat(marker).st_mtime
    except OSError:
        started = None
    if started is not None and not _changed_after(changed_files, started):
        return False
    lock = paths.state_dir / LOCK_FILE
    if not _take_lock(lock):
        return False
    try:
        with open(marker, "wb"):
            pass
        _spawn_detached(refresh_command(), lock)
    except OSError:
        _release(lock)
        return False
    return True


def _changed_after(files: list[Path], moment: float) -> bool:
    for path in files:
        try:
            if os.stat(path).st_mtime > moment:
                return True
        except OSError:
            continue
    return False


def _take_lock(lock: Path) -> bool:
    for _attempt in (1, 2):
        try:
            os.close(os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
            return True
        except FileExistsError:
            if not _stale(lock):
                return False
            _release(lock)  # a waiter that was killed left it: take it over once
        except OSError:  # no state folder yet, or not writable
            try:
                os.makedirs(os.path.dirname(lock), mode=0o700, exist_ok=True)
            except OSError:
                return False
    return False


def _stale(lock: Path) -> bool:
    import time

    try:
        return time.time() - os.stat(lock).st_mtime > LOCK_STALE_SECONDS
    except OSError:
        return True


def _release(lock: Path) -> None:
    with contextlib.suppress(OSError):
        os.unlink(lock)


def _spawn_detached(command: list[str], lock: Path) -> None:
    if os.name != "posix":
        _spawn_windows(command)  # the lock then expires by age
        return
    first = os.fork()
    if first == 0:  # a new session, so the caller's terminal and job control never see it
        try:
            os.setsid()
            with contextlib.suppress(OSError):
                os.nice(10)  # background work: the prompt that started it goes first
            _detach_from_caller()
            if os.fork() == 0:
                _wait_then_release(command, lock)
        finally:
            os._exit(0)
    # Not waited for: on a busy machine that would cost the prompt milliseconds. It ends at
    # once; the prompt exits right after, and init then reaps it.
    with contextlib.suppress(ChildProcessError):
        os.waitpid(first, os.WNOHANG)


def _detach_from_caller() -> None:
    """Let go of the caller's stdin/stdout/stderr: starship and tmux read the prompt's
    output until every copy of its pipe is closed, so a copy held here would make them
    wait for the refresh after all."""
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.closerange(3, 256)  # anything else inherited (no exec in this process)


def _wait_then_release(command: list[str], lock: Path) -> None:
    """The waiter: run the refresh, wait for it, then release the lock."""
    try:
        child = os.fork()
        if child == 0:
            try:
                os.execv(command[0], command)
            finally:
                os._exit(127)
        os.waitpid(child, 0)
    finally:
        _release(lock)
        os._exit(0)


def _spawn_windows(command: list[str]) -> None:
    import subprocess

    flags = subprocess.DETACHED_PROCESS | subprocess.CREATE_NEW_PROCESS_GROUP  # type: ignore[attr-defined]
    subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL, close_fds=True, creationflags=flags)
