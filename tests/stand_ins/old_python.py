"""A stand-in for an interpreter older than the app supports (Python 3.10), for machines
that have no real one (the Linux installer must refuse it before changing anything).

``old_python(directory)`` writes ``<directory>/python3``, a script that runs this file with
the test interpreter. It answers what an installer asks an interpreter: ``-V`` /
``--version`` print ``Python 3.10.12``; ``-c CODE`` runs CODE with ``sys.version_info``
and ``sys.version`` saying 3.10.12; anything else (``-m venv``...) exits 1, so a check that
let it through would fail loudly.
"""

from __future__ import annotations

import sys
from pathlib import Path

VERSION = (3, 10, 12)


def old_python(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    program = directory / "python3"
    program.write_text(f"#!/bin/sh\nexec {sys.executable} -I {Path(__file__)} \"$@\"\n")
    program.chmod(0o755)
    return program


class _VersionInfo(tuple):
    major, minor, micro = VERSION
    releaselevel, serial = "final", 0


def main(argv: list[str]) -> int:
    text = ".".join(map(str, VERSION))
    if argv[:1] in (["-V"], ["--version"]):
        print(f"Python {text}")
        return 0
    if argv[:1] == ["-c"] and len(argv) >= 2:
        sys.version_info = _VersionInfo((*VERSION, "final", 0))
        sys.version = f"{text} (stand-in)"
        sys.argv = ["-c", *argv[2:]]
        exec(compile(argv[1], "<string>", "exec"), {"__name__": "__main__"})
        return 0
    print(f"stand-in Python {text}: {' '.join(argv)} is not supported", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
