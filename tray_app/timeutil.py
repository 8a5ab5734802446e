"""Lenient parsing and human formatting of times. All datetimes are aware UTC."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_FRACTION = re.compile(r"(\.\d{6})\d+")


def utc_now() -> datetime:
    return datetime.now(UTC)


def parse_time(text: str) -> datetime | None:
    """Parse the time formats AWS tools write; None when it is not a time.

    Seen in the wild: ``2026-11-27T12:00:00Z``, ``...UTC`` (older AWS CLI),
    ``+00:00`` offsets, a space instead of ``T`` and Go's nanosecond fractions.
    """
    if not isinstance(text, str):
        return None
    cleaned = text.strip()
    if cleaned[-3:].upper() == "UTC":
        cleaned = cleaned[:-3].rstrip() + "+00:00"
    elif cleaned[-1:] == "z":
        cleaned = cleaned[:-1] + "Z"
    cleaned = _FRACTION.sub(r"\1", cleaned)
    try:
        parsed = datetime.fromisoformat(cleaned)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: year 1 or 9999 shifted out of range
        return None


def from_epoch(seconds: object) -> datetime | None:
    """Epoch seconds (int, float or digit string) -> datetime; None when implausible."""
    if isinstance(seconds, bool):
        return None
    try:
        value = float(seconds)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):  # OverflowError: an int beyond float
        return None
    if value > 1e11:  # milliseconds, as some tools write
        value /= 1000
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def iso_utc(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    # isoformat, not strftime: %Y drops the leading zeros of years before 1000 on glibc
    return moment.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def format_time_left(seconds: int | None) -> str:
    """``11h 02m``, ``40m``, ``expired 2h ago``; ``-`` when unknown."""
    if seconds is None:
        return "-"
    if seconds <= 0:
        return f"expired {_short_span(-seconds)} ago"
    return _long_span(seconds)


def _long_span(seconds: int) -> str:
    minutes = seconds // 60
    hours, minutes = divmod(minutes, 60)
    if hours >= 24:
        days, hours = divmod(hours, 24)
        return f"{days}d {hours:02d}h"
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m"


def _short_span(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def short_badge(seconds: int | None) -> str:
    """The tray badge: ``9h``, ``45m``, ``!`` (expired), ``?`` (unknown)."""
    if seconds is None:
        return "?"
    if seconds <= 0:
        return "!"
    if seconds >= 3600:
        return f"{seconds // 3600}h"
    return f"{max(1, seconds // 60)}m"


_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


def parse_duration(text: str) -> int | None:
    """``90m``, ``2h``, ``1h30m``, ``45s``, ``1d`` -> seconds; None when it is not one
    (a bare number has no unit: minutes or seconds would be a guess)."""
    cleaned = text.strip().lower().replace(" ", "") if isinstance(text, str) else ""
    match = _DURATION.fullmatch(cleaned)
    if not cleaned or match is None:
        return None
    days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return ((days * 24 + hours) * 60 + minutes) * 60 + seconds
