"""A headless desktop for the tray figures: Xvfb, a private D-Bus session, trayer, dunst.

All Debian packages (see /work/shared/reference/tray-notifications-testing.md). The
display number comes from ``Xvfb -displayfd``; nothing listens on TCP.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Desktop:
    display: str
    env: dict[str, str]  # DISPLAY, DBUS_SESSION_BUS_ADDRESS

    def xwin_tree(self) -> str:
        return subprocess.run(["xwininfo", "-root", "-tree"], env=self._x_env(),
                              capture_output=True, text=True, timeout=10).stdout

    def tray_panel_windows(self) -> set[int]:
        """Window ids inside trayer's panel (docked icons and their sockets)."""
        tree = self.xwin_tree().splitlines()
        inside: set[int] = set()
        depth = None
        for line in tree:
            indent = len(line) - len(line.lstrip())
            match = re.match(r"\s*0x([0-9a-f]+) ", line)
            if depth is not None:
                if match and indent > depth:
                    inside.add(int(match.group(1), 16))
                    continue
                if match:
                    depth = None
            if match and '("panel" "trayer")' in line:
                depth = indent
        return inside

    def windows_of(self, pid: int) -> set[int]:
        out = subprocess.run(["xdotool", "search", "--pid", str(pid)], env=self._x_env(),
                             capture_output=True, text=True, timeout=10).stdout
        return {int(w) for w in out.split()}

    def docked(self, pids: set[int]) -> bool:
        """Is a window of one of these processes embedded in the tray panel?"""
        mine = set().union(*(self.windows_of(pid) for pid in pids)) if pids else set()
        return bool(mine & self.tray_panel_windows())

    def _x_env(self) -> dict[str, str]:
        return {**os.environ, **self.env}


def _start(stack: ExitStack, argv: list[str], env: dict[str, str], **kwargs: object
           ) -> subprocess.Popen:
    process = subprocess.Popen(argv, env=env, **kwargs)  # type: ignore[call-overload]

    def stop() -> None:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)

    stack.callback(stop)
    return process


@contextmanager
def running_desktop(workdir: Path) -> Iterator[Desktop]:
    workdir.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        read_end, write_end = os.pipe()
        _start(stack, ["Xvfb", "-displayfd", str(write_end), "-screen", "0", "800x200x24",
                       "-nolisten", "tcp"], dict(os.environ), pass_fds=(write_end,),
               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(write_end)
        with os.fdopen(read_end) as display_pipe:
            display = ":" + display_pipe.readline().strip()
        bus = _start(stack, ["dbus-daemon", "--session", "--nofork", "--print-address=1"],
                     dict(os.environ), stdout=subprocess.PIPE, text=True)
        address = bus.stdout.readline().strip()
        env = {"DISPLAY": display, "DBUS_SESSION_BUS_ADDRESS": address}
        full = {**os.environ, **env}
        _start(stack, ["trayer", "--edge", "top", "--align", "right", "--widthtype", "pixel",
                       "--width", "200", "--height", "40"], full,
               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _start(stack, ["dunst"], full, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        desktop = Desktop(display, env)
        deadline = time.monotonic() + 15
        while '("panel" "trayer")' not in desktop.xwin_tree():
            if time.monotonic() > deadline:
                raise RuntimeError("trayer did not show its panel within 15 s")
            time.sleep(0.05)
        yield desktop
