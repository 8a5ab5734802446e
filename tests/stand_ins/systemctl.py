"""A stand-in `systemctl --user` for a session whose systemd user manager runs
graphical-session.target (none runs in CI's containers: no systemd as PID 1).

``fake_systemctl(directory, target_state)`` writes ``<directory>/systemctl``. It answers
``systemctl --user is-active graphical-session.target`` with ``target_state`` ("active" exit
0, anything else exit 3, as systemctl does) and ``systemctl --user daemon-reload`` with exit
0; every call's arguments are appended to ``<directory>/systemctl.log``.

``hold``: a slow systemd (a busy user manager answers in up to the app's 10 s timeout). Each
call then appends its process id and arguments to ``<directory>/systemctl.begun`` and waits
until the file ``hold`` exists (at most HOLD_LIMIT seconds) before it answers and logs: tests
release it when they have checked what happens meanwhile (``waiting_calls``), so nothing
depends on a duration.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

HOLD_LIMIT = 120.0


def fake_systemctl(directory: Path, target_state: str, hold: Path | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    program = directory / "systemctl"
    log = directory / "systemctl.log"
    program.write_text(f"#!/bin/sh\nexec {sys.executable} -I {Path(__file__)} {log}"
                       f" {target_state} {hold or '-'} \"$@\"\n")
    program.chmod(0o755)
    return program


def waiting_calls(directory: Path) -> list[str]:
    """The held calls still waiting now (a call the app killed at its timeout is gone)."""
    begun = directory / "systemctl.begun"
    waiting = []
    for line in begun.read_text().splitlines() if begun.exists() else []:
        pid, _, args = line.partition(" ")
        if _alive(int(pid)):
            waiting.append(args)
    return waiting


def _alive(pid: int) -> bool:
    """Running, not a zombie (Linux: /proc)."""
    try:
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


def main(log: str, state: str, hold: str, argv: list[str]) -> int:
    if hold != "-":
        with open(Path(log).with_name("systemctl.begun"), "a") as begun:
            begun.write(f"{os.getpid()} {' '.join(argv)}\n")
        deadline = time.monotonic() + HOLD_LIMIT
        while not Path(hold).exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    with open(log, "a") as calls:
        calls.write(" ".join(argv) + "\n")
    if argv[:2] == ["--user", "is-active"]:
        print(state)
        return 0 if state == "active" else 3
    if argv[:2] == ["--user", "daemon-reload"]:
        return 0
    print(f"stand-in systemctl: {' '.join(argv)} is not supported", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]))
