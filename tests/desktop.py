"""A real, private Linux desktop for tray tests, from Debian packages:

Xvfb (display picked with ``-displayfd``), a private ``dbus-daemon --session``, dunst as the
notification server, ``dbus-monitor`` recording every Notify call, and trayer as the
system tray (XEmbed). Everything is started with an argument list and stopped by PID.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

TOOLS = ("Xvfb", "trayer", "dunst", "dbus-daemon", "dbus-monitor", "dbus-send", "xdotool",
         "xwininfo", "import")
SCREEN = "1024x768x24"


def missing_tools() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None]


def wait_until(check: Callable[[], object], timeout: float, what: str, step: float = 0.2):
    """Poll ``check`` until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(step)


@dataclass
class Desktop:
    display: str
    bus_address: str
    folder: Path
    processes: list[subprocess.Popen] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        return {"DISPLAY": self.display, "DBUS_SESSION_BUS_ADDRESS": self.bus_address}

    @property
    def notify_log(self) -> Path:
        return self.folder / "dbus-monitor.log"

    def run(self, *argv: str, timeout: float = 20) -> str:
        result = subprocess.run(list(argv), env={**os.environ, **self.env}, capture_output=True,
                                text=True, timeout=timeout, check=False)
        return result.stdout

    def start(self, name: str, argv: list[str], **env: str) -> subprocess.Popen:
        log = (self.folder / f"{name}.log").open("wb")
        process = subprocess.Popen(argv, env={**os.environ, **self.env, **env}, stdout=log,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        self.processes.append(process)
        return process

    def screenshot(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.run("import", "-window", "root", str(path))
        return path

    def tree(self) -> str:
        return self.run("xwininfo", "-root", "-tree")

    def top_windows(self) -> set[str]:
        return set(re.findall(r"^\s{5}(0x[0-9a-f]+)", self.run("xwininfo", "-root", "-children"),
                              re.MULTILINE))

    def window_info(self, window: str) -> str:
        return self.run("xwininfo", "-id", window)

    def notify_calls(self) -> list[list[str]]:
        """The string arguments of every Notify call dbus-monitor saw (summary, body...)."""
        if not self.notify_log.exists():
            return []
        text = self.notify_log.read_text(errors="replace")
        calls = []
        for block in text.split("method call")[1:]:
            if "member=Notify" in block:
                calls.append(re.findall(r'^\s+string "(.*?)"$', block, re.MULTILINE | re.DOTALL))
        return calls


@contextmanager
def running_desktop(folder: Path, with_tray: bool = True) -> Iterator[Desktop]:
    folder.mkdir(parents=True, exist_ok=True)
    read_end, write_end = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write_end), "-screen", "0", SCREEN,
                             "-nolisten", "tcp"], pass_fds=(write_end,),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_end)
    processes = [xvfb]
    try:
        with os.fdopen(read_end) as display_pipe:
            number = display_pipe.readline().strip()
        if not number:
            raise RuntimeError("Xvfb did not report a display number")
        bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--nopidfile",
                                "--print-address=1"], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
        processes.append(bus)
        address = bus.stdout.readline().strip()
        desktop = Desktop(f":{number}", address, folder, processes)
        dunst = desktop.start("dunst", ["dunst"])
        desktop.start("dbus-monitor", ["dbus-monitor", "--address", address,
                                       "interface='org.freedesktop.Notifications'"])
        if with_tray:
            desktop.start("trayer", ["trayer", "--edge", "top", "--align", "right",
                                     "--widthtype", "pixel", "--width", "200",
                                     "--height", "40", "--transparent", "false"])
            wait_until(lambda: '"panel": ("panel" "trayer")' in desktop.tree(), 20,
                       "trayer's panel window")
        _wait_for_dunst(desktop, dunst)
        yield desktop
    finally:
        for process in reversed(processes):
            _stop(process)


def _wait_for_dunst(desktop: Desktop, dunst: subprocess.Popen) -> None:
    """dunst owning the notification name; if it ended at start, one more start, and a
    failure quotes its log (a CI run once saw it missing after 20 s, cause unknown)."""
    restarted = False

    def ready() -> bool:
        nonlocal dunst, restarted
        if dunst.poll() is not None and not restarted:
            dunst, restarted = desktop.start("dunst-again", ["dunst"]), True
        return _bus_has(desktop, "org.freedesktop.Notifications")

    try:
        wait_until(ready, 20, "dunst on the private session bus")
    except AssertionError as error:
        logs = "; ".join(f"{log.name}: {log.read_text(errors='replace')[-400:]!r}"
                         for log in sorted(desktop.folder.glob("dunst*.log")))
        raise AssertionError(f"{error} (exit {dunst.poll()}; {logs})") from None


def _bus_has(desktop: Desktop, name: str) -> bool:
    out = desktop.run("dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus",
                      "/org/freedesktop/DBus", "org.freedesktop.DBus.ListNames")
    return f'"{name}"' in out


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            with suppress(OSError):
                stream.close()
