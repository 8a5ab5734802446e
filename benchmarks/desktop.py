"""Docked-icon helpers on top of the desktop the tray tests use (tests/desktop.py):
Xvfb, a private D-Bus session, dunst and trayer, all from Debian packages."""

from __future__ import annotations

import re

from tests.desktop import Desktop, missing_tools, running_desktop

__all__ = ["Desktop", "docked", "missing_tools", "running_desktop", "tray_panel_windows",
           "windows_of"]


def tray_panel_windows(desktop: Desktop) -> set[int]:
    """Window ids inside trayer's panel: docked icons and their sockets."""
    inside: set[int] = set()
    depth = None
    for line in desktop.tree().splitlines():
        match = re.match(r"(\s*)0x([0-9a-f]+) ", line)
        if not match:
            continue
        indent = len(match.group(1))
        if depth is not None and indent > depth:
            inside.add(int(match.group(2), 16))
            continue
        depth = indent if '("panel" "trayer")' in line else None
    return inside


def windows_of(desktop: Desktop, pid: int) -> set[int]:
    return {int(w) for w in desktop.run("xdotool", "search", "--pid", str(pid)).split()}


def docked(desktop: Desktop, pids: set[int]) -> bool:
    """Is a window of one of these processes embedded in the tray panel?"""
    mine: set[int] = set()
    for pid in pids:
        mine |= windows_of(desktop, pid)
    return bool(mine & tray_panel_windows(desktop))
