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
- ``attention``: how many logins are in warning, critical or expired state;
- ``label``: the soonest login's registry (``222222222222 eu-central-1``), the rest of the
  line; ``-`` when there is none.

The prompt functions (``ecr-token-tray prompt init``) compute the time left from
``expires_at`` and the shell's own clock, so the file stays right between snapshots.
"""

from __future__ import annotations

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


def source_files(paths: Paths) -> list[Path]:
    """Where logins change without a snapshot: newer than the summary means it is stale."""
    from tray_app.statefile import logins_path

    return [paths.docker_config, *paths.podman_auth_files, paths.ecr_cache, paths.aws_config,
            paths.sso_cache_dir, paths.config_file, logins_path(paths.state_dir)]


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
    False when it could not be written: a prompt then shows the old one as stale."""
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
