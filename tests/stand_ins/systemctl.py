"""A stand-in `systemctl --user` for a session whose systemd user manager runs
graphical-session.target (none runs in CI's containers: no systemd as PID 1).

``fake_systemctl(directory, target_state)`` writes ``<directory>/systemctl``. It answers
``systemctl --user is-active graphical-session.target`` with ``target_state`` ("active" exit
0, anything else exit 3, as systemctl does) and ``systemctl --user daemon-reload`` with exit
0; every call's arguments are appended to ``<directory>/systemctl.log``.
"""

from __future__ import annotations

import sys
from pathlib import Path


def fake_systemctl(directory: Path, target_state: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    program = directory / "systemctl"
    log = directory / "systemctl.log"
    program.write_text(f"#!/bin/sh\nexec {sys.executable} -I {Path(__file__)} {log}"
                       f" {target_state} \"$@\"\n")
    program.chmod(0o755)
    return program


def main(log: str, state: str, argv: list[str]) -> int:
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
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3:]))
