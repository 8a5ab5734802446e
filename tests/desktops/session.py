"""One headless desktop's processes, run as an unprivileged user, with a private session bus.

sway refuses to run as root and CI runs as root, so every desktop process (the buses, the
compositor or shell, the panel, the notification server, the app, and every D-Bus client
the test uses) runs as ``nobody`` through ``setpriv --reuid --regid --clear-groups``, with
its own ``HOME`` and ``XDG_RUNTIME_DIR`` (0700) inside a world-readable folder. When the
test does not run as root, processes simply run as the current user.

Each process gets ``ECR_TRAY_TEST_DESKTOP=<folder>`` in its environment, so teardown finds
(in /proc) and ends by PID everything the desktop started, including D-Bus activated
helpers and grandchildren, and a test can tell whether the app left a child behind.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from tests.desktop import wait_until

UNPRIVILEGED = 65534  # nobody/nogroup on Debian and Ubuntu
TAG = "ECR_TRAY_TEST_DESKTOP"
APP_TAG = "ECR_TRAY_TEST_APP"
BASE_PATH = "/usr/local/bin:/usr/bin:/bin"


def world_readable_folder(prefix: str) -> Path:
    """A new folder under the system temp dir that another user can enter (pytest's
    tmp_path lives under a 0700 folder of the user running pytest)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    folder.chmod(0o755)
    return folder


def make_readable(path: Path) -> None:
    """a+rX on a tree we made as root, for the unprivileged user to read and run."""
    subprocess.run(["chmod", "-R", "a+rX", str(path)], check=True, timeout=120)


class UserSession:
    """A folder (``home``, ``run``, ``tmp``, ``logs``, ``shots``) and the processes in it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.as_root = os.geteuid() == 0
        self.uid = UNPRIVILEGED if self.as_root else os.geteuid()
        self.gid = UNPRIVILEGED if self.as_root else os.getegid()
        self.home = folder / "home"
        self.runtime = folder / "run"
        self.tmp = folder / "tmp"
        self.logs = folder / "logs"
        self.shots = folder / "shots"
        for path in (self.home, self.tmp, self.logs, self.shots):
            path.mkdir(parents=True, exist_ok=True)
        self.runtime.mkdir(mode=0o700, exist_ok=True)
        self.bus_address = f"unix:path={self.runtime}/bus"
        self.env = {
            "PATH": BASE_PATH, "HOME": str(self.home), "LANG": "C.UTF-8",
            "XDG_RUNTIME_DIR": str(self.runtime), "TMPDIR": str(self.tmp),
            "DBUS_SESSION_BUS_ADDRESS": self.bus_address,
            "NO_AT_BRIDGE": "1",  # no at-spi helpers that outlive the test
            TAG: str(folder),
        }
        self.started: list[subprocess.Popen] = []

    # -- ownership ---------------------------------------------------------------------
    def give(self, *paths: Path) -> None:
        """Hand files and folders (recursively) to the desktop's user."""
        if not self.as_root:
            return
        for path in paths:
            for root, dirs, files in os.walk(path):
                for name in [root, *(os.path.join(root, n) for n in dirs + files)]:
                    os.lchown(name, self.uid, self.gid)
            if not path.is_dir():
                os.lchown(path, self.uid, self.gid)

    def give_all(self) -> None:
        self.give(self.folder)

    # -- processes ---------------------------------------------------------------------
    def argv(self, argv: Iterable[str]) -> list[str]:
        prefix = (["setpriv", f"--reuid={self.uid}", f"--regid={self.gid}", "--clear-groups"]
                  if self.as_root else [])
        return [*prefix, *argv]

    def full_env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = dict(self.env)
        for name, value in (extra or {}).items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        return env

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None,
              stdin: int | None = subprocess.DEVNULL, stdout: int | None = None
              ) -> subprocess.Popen:
        """Start ``argv`` as the desktop's user; output goes to logs/<name>.log."""
        log = (self.logs / f"{name}.log").open("ab")
        process = subprocess.Popen(self.argv(argv), env=self.full_env(env), stdin=stdin,
                                   stdout=stdout if stdout is not None else log,
                                   stderr=log, cwd=self.home)
        log.close()
        self.started.append(process)
        return process

    def run(self, argv: list[str], env: dict[str, str] | None = None, timeout: float = 30,
            input: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(self.argv(argv), env=self.full_env(env), capture_output=True,
                              text=True, timeout=timeout, input=input, cwd=self.home,
                              check=False)

    def tagged_pids(self, tag: str = TAG, value: str | None = None) -> list[int]:
        """Processes whose environment holds ``tag`` (= ``value``, default: this folder)."""
        wanted = f"{tag}={value if value is not None else self.folder}".encode()
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                environ = (entry / "environ").read_bytes()
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if state != "Z" and wanted in environ.split(b"\0"):
                found.append(int(entry.name))
        return found

    def stop(self) -> None:
        """End every process this desktop started, newest first, then any tagged leftover
        (D-Bus activated helpers, grandchildren), each by its PID."""
        for process in reversed(self.started):
            end_process(process)
        for sig in (signal.SIGTERM, signal.SIGKILL):
            leftovers = self.tagged_pids()
            for pid in leftovers:
                with suppress(ProcessLookupError):
                    os.kill(pid, sig)
            if leftovers:
                with suppress(AssertionError):
                    wait_until(lambda: not self.tagged_pids(), 5, "leftovers to end", 0.1)

    # -- D-Bus, through busctl run as the desktop's user ----------------------------------
    def busctl(self, *args: str, address: str | None = None, timeout: float = 15) -> object:
        """``busctl --json=short ARGS`` on the session bus; the reply's data, variants
        unwrapped. Raises BusError with busctl's message when the call fails."""
        result = self.run(["busctl", f"--address={address or self.bus_address}",
                           "--json=short", "--", *args], timeout=timeout)
        if result.returncode != 0:
            raise BusError(result.stderr.strip() or f"busctl {args[:4]} failed")
        if not result.stdout.strip():
            return None
        return unwrap(json.loads(result.stdout)["data"])

    def call(self, dest: str, path: str, interface: str, method: str, signature: str = "",
             *args: object, address: str | None = None) -> object:
        argv = ["call", dest, path, interface, method]
        if signature:
            argv += [signature, *map(str, args)]
        return self.busctl(*argv, address=address)

    def get_property(self, dest: str, path: str, interface: str, name: str,
                     address: str | None = None) -> object:
        return self.busctl("get-property", dest, path, interface, name, address=address)

    def name_owner_pid(self, name: str, address: str | None = None) -> int | None:
        try:
            pid = self.call("org.freedesktop.DBus", "/org/freedesktop/DBus",
                            "org.freedesktop.DBus", "GetConnectionUnixProcessID", "s", name,
                            address=address)
        except BusError:
            return None
        return int(pid[0])

    def has_name(self, name: str) -> bool:
        return self.name_owner_pid(name) is not None


class BusError(RuntimeError):
    pass


def unwrap(value: object) -> object:
    """busctl's JSON writes a variant as {"type": T, "data": D}: keep D, recursively."""
    if isinstance(value, dict):
        if set(value) == {"type", "data"}:
            return unwrap(value["data"])
        return {key: unwrap(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unwrap(item) for item in value]
    return value


def end_process(process: subprocess.Popen, timeout: float = 5) -> int | None:
    if process.poll() is None:
        with suppress(ProcessLookupError):
            process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            with suppress(OSError):
                stream.close()
    return process.returncode


def remove_folder(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""


def wait_for_path(path: Path, timeout: float, what: str) -> Path:
    wait_until(path.exists, timeout, what, 0.05)
    return path


def monotonic() -> float:
    return time.monotonic()


@contextmanager
def user_session(name: str, screenshots: Path, logs: Path) -> Iterator[UserSession]:
    """A fresh UserSession; afterwards every process is ended, screenshots are copied to
    ``screenshots`` (as ``<name>-<shot>.png``) and logs to ``logs``, the folder removed."""
    session = UserSession(world_readable_folder(f"ecr-tray-{name}-"))
    try:
        yield session
    finally:
        session.stop()
        screenshots.mkdir(parents=True, exist_ok=True)
        logs.mkdir(parents=True, exist_ok=True)
        for shot in session.shots.glob("*.png"):
            shutil.copyfile(shot, screenshots / f"{name}-{shot.name}")
        for log in session.logs.glob("*.log"):
            shutil.copyfile(log, logs / f"{name}-{log.name}")
        remove_folder(session.folder)


def notify_calls(monitor_log: Path) -> list[dict]:
    """Each org.freedesktop.Notifications.Notify call dbus-monitor printed: app_name,
    summary, body, actions (key, label pairs) and the urgency hint (None when absent)."""
    if not monitor_log.exists():
        return []
    calls = []
    for block in monitor_log.read_text(errors="replace").split("method call")[1:]:
        if "member=Notify" not in block:
            continue
        top = re.findall(r'^   string "(.*?)"$', block, re.MULTILINE | re.DOTALL)
        actions_block = re.search(r"^   array \[\n(.*?)^   \]", block, re.MULTILINE | re.DOTALL)
        keys_labels = re.findall(r'^      string "(.*?)"$', actions_block.group(1) if
                                 actions_block else "", re.MULTILINE)
        urgency = re.search(r'string "urgency"\s+variant\s+byte (\d+)', block)
        calls.append({"app_name": top[0] if top else None,
                      "summary": top[2] if len(top) > 2 else None,
                      "body": top[3] if len(top) > 3 else None,
                      "actions": dict(zip(keys_labels[::2], keys_labels[1::2], strict=False)),
                      "urgency": int(urgency.group(1)) if urgency else None})
    return calls
