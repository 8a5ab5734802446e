"""The prompt summary: one line a shell reads with builtins, written on every snapshot.

``<state dir>/summary`` holds one line of space-separated fields::

    1 <generated_at> <expires_at> <warning_s> <critical_s> <worst_state> <attention> <label>

- ``1``: the format's version;
- ``generated_at``: when the snapshot was taken, epoch seconds;
- ``expires_at``: when the first watched login stops working (an ecr-login registry: when
  the SSO session behind it ends), epoch seconds, or ``-`` when none has a known end;
- ``warning_s``, ``critical_s``: the user's thresholds (config.toml), in seconds, so that a
  prompt needs no TOML parser;
- ``worst_state``: the worst state of any login (``expired``, ``critical``, ``warning``,
  ``unknown``, ``ok``, ``managed``, or ``none`` when there is no login);
- ``attention``: how many logins need attention (critical or expired:
  ``State.needs_attention``, the same test as the tray's NeedsAttention status);
- ``label``: the soonest login's registry (``222222222222 eu-central-1``), the rest of the
  line; ``-`` when there is none.

The prompt functions (``ecr-token-tray prompt init``) compute the time left from
``expires_at`` and the shell's own clock, so the file stays right between snapshots.

Reading it: :func:`segment` is what a prompt shows, ``ECR 45m``, ``ECR 9m!``, ``ECR
expired`` or nothing. The shell functions compute the same with shell builtins; this is
the reference they are tested against, and what ``ecr-token-tray prompt`` (tmux, starship,
waybar) prints.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from tray_app.model import Snapshot, State
from tray_app.record import record
from tray_app.settings import Paths, Settings

SUMMARY_FILE = "summary"
FORMAT_VERSION = "1"
SKEW_SECONDS = 300  # a summary "generated" this far in the future: the clock moved back
WORST_FIRST = (State.EXPIRED, State.CRITICAL, State.WARNING, State.UNKNOWN, State.OK,
               State.MANAGED)


@record
class Summary:
    generated_at: int
    expires_at: int | None
    warning_seconds: int
    critical_seconds: int
    worst: str
    attention: int
    label: str

    def line(self) -> str:
        expires = "-" if self.expires_at is None else str(self.expires_at)
        return " ".join([FORMAT_VERSION, str(self.generated_at), expires,
                         str(self.warning_seconds), str(self.critical_seconds), self.worst,
                         str(self.attention), self.label or "-"])


def summary_path(paths: Paths) -> Path:
    return paths.state_dir / SUMMARY_FILE


def summarize(snapshot: Snapshot, settings: Settings) -> Summary:
    soonest = snapshot.soonest()
    states = {row.state for row in snapshot.registries}
    worst = next((state.value for state in WORST_FIRST if state in states), "none")
    return Summary(
        generated_at=_epoch(snapshot.generated_at),
        expires_at=(_epoch(soonest.watched_expires_at)
                    if soonest and soonest.watched_expires_at else None),
        warning_seconds=settings.warning_minutes * 60,
        critical_seconds=settings.critical_minutes * 60,
        worst=worst,
        attention=sum(1 for row in snapshot.registries if row.state.needs_attention),
        label=_one_line(soonest.registry.label) if soonest else "-",
    )


def parse_summary(line: str) -> Summary | None:
    """The fields of a summary line; None when it is not one (corrupt, other version)."""
    fields = line.rstrip("\n").split(" ", 7)
    if len(fields) != 8 or fields[0] != FORMAT_VERSION or "\n" in fields[7]:
        return None
    _version, generated, expires, warning, critical, worst, attention, label = fields
    numbers = [generated, warning, critical, attention] + ([] if expires == "-" else [expires])
    if not all(_is_count(n) for n in numbers):
        return None
    return Summary(int(generated), None if expires == "-" else int(expires), int(warning),
                   int(critical), worst, int(attention), label)


def write_summary(paths: Paths, snapshot: Snapshot, settings: Settings) -> bool:
    """Replace the summary file (atomic; no fsync: the next snapshot rewrites it anyway).
    False when it could not be written: a prompt then shows the old one as stale.

    Called from one place, tray_app/service/snapshots.py, and only with a snapshot that
    covered every login the summary describes."""
    from tray_app.fileio import replace_small_file

    line = summarize(snapshot, settings).line() + "\n"
    try:
        replace_small_file(summary_path(paths), line.encode())
    except OSError:
        return False
    return True


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _is_count(text: str) -> bool:
    """Digits only, and short: a shell's arithmetic must not overflow on them."""
    return text.isascii() and text.isdigit() and len(text) <= 12


def _one_line(text: str) -> str:
    return " ".join(text.split()) or "-"


# -- reading it: the prompt segment ---------------------------------------------------------
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
