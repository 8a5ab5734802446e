"""Helpers for the secret-leak tests: record what children were told, scan texts for secrets."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterable
from pathlib import Path

# Shorter values (empty fields, short ids) could turn up anywhere by chance.
MIN_SECRET_LENGTH = 8


def recording_wrappers(folder: Path, argv_log: Path, *tools: str,
                       search_path: str | None = None) -> Path:
    """``folder/<tool>``: append argv (a JSON list a line) to ``argv_log``, then exec the tool
    found on ``search_path`` (default: PATH; the real binary, or a stand-in)."""
    folder.mkdir(parents=True, exist_ok=True)
    for tool in tools:
        real = shutil.which(tool, path=search_path)
        assert real, f"{tool} not found"
        script = folder / tool
        script.write_text(
            "#!/bin/sh\n"
            # one write() to an O_APPEND file: callers running in parallel never interleave
            f"'{sys.executable}' -c 'import json,os,sys;"
            f" os.write(1, (json.dumps(sys.argv[1:]) + chr(10)).encode())'"
            f" {tool} \"$@\" >> '{argv_log}'\n"
            f"exec '{real}' \"$@\"\n")
        script.chmod(0o755)
    return folder


def scannable(*secret_groups: Iterable[str]) -> set[str]:
    """Every secret of the groups long enough to mean something when found."""
    return {secret for group in secret_groups for secret in group
            if len(secret) >= MIN_SECRET_LENGTH}


def secret_hits(places: dict[str, str], secrets: Iterable[str]) -> list[tuple[str, str]]:
    """(place, first 6 characters of the secret) for every secret found in a place's text."""
    return [(place, secret[:6]) for place, text in places.items() for secret in secrets
            if secret in text]
