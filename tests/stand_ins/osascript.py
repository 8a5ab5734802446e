"""A stand-in `osascript` (macOS) for the fake darwin tray: records what a notification
would show, and where its text travelled.

``fake_osascript(directory)`` writes ``<directory>/osascript``. Each call appends one JSON
line to ``<directory>/osascript.log``: ``{"argv": [...], "stdin": "..."}``, and exits 0.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def fake_osascript(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    program = directory / "osascript"
    program.write_text(f"#!/bin/sh\nexec {sys.executable} -I {Path(__file__)}"
                       f" {directory / 'osascript.log'} \"$@\"\n")
    program.chmod(0o755)
    return program


def calls(directory: Path) -> list[dict]:
    log = directory / "osascript.log"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def main(log: str, argv: list[str]) -> int:
    script = sys.stdin.read() if argv == ["-"] else ""
    with open(log, "a") as calls_file:
        calls_file.write(json.dumps({"argv": argv, "stdin": script}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
