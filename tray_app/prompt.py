"""The prompt segment: ``ECR 45m``, ``ECR 9m!``, ``ECR expired``, or nothing.

The shell functions of ``ecr-token-tray prompt init`` compute the same thing with shell
builtins; this module is the reference they are tested against, and what
``ecr-token-tray prompt`` (tmux, starship, waybar) prints.
"""

from __future__ import annotations

import os
from pathlib import Path

from tray_app.record import record
from tray_app.summary import SKEW_SECONDS, Summary, parse_summary

LEVELS = ("expired", "critical", "warning")  # what a segment can show, worst first


@record
class Segment:
    text: str  # "" when all is fine beyond the warning window
    level: str  # "expired", "critical", "warning", or "" with no text
    stale: bool  # a credentials file changed after the summary was written

    def plain(self) -> str:
        return f"{self.text}?" if self.text and self.stale else self.text


def segment(summary: Summary | None, now: int, stale: bool = False) -> Segment:
    """What the prompt shows at ``now`` (epoch seconds) for this summary."""
    if summary is None or summary.expires_at is None:
        return Segment("", "", stale)
    stale = stale or summary.generated_at > now + SKEW_SECONDS  # the clock went back
    left = summary.expires_at - now
    if left <= 0:
        return Segment("ECR expired", "expired", stale)
    if left <= summary.critical_seconds:
        return Segment(f"ECR {span(left)}!", "critical", stale)
    if left <= summary.warning_seconds:
        return Segment(f"ECR {span(left)}", "warning", stale)
    return Segment("", "", stale)


def span(seconds: int) -> str:
    """``2h`` from an hour on, else whole minutes, at least ``1m`` (as the tray's badge)."""
    if seconds >= 3600:
        return f"{seconds // 3600}h"
    return f"{max(1, seconds // 60)}m"


def read_summary(path: Path) -> tuple[Summary | None, float | None]:
    """The summary and its file's mtime; (None, None) when there is no readable file."""
    try:
        with open(path, "rb") as handle:
            mtime = os.fstat(handle.fileno()).st_mtime
            raw = handle.read(4096)
    except OSError:
        return None, None
    try:
        return parse_summary(raw.decode("utf-8")), mtime
    except UnicodeDecodeError:
        return None, mtime


def newer_than(sources: list[Path], mtime: float) -> bool:
    """Did any of these files (or folders) change after ``mtime``?"""
    for source in sources:
        try:
            if os.stat(source).st_mtime > mtime:
                return True
        except OSError:
            continue
    return False
