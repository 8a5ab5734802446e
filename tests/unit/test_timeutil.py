"""Lenient time parsing (what AWS tools write) and the table's time-left wording."""

from datetime import UTC, datetime

import pytest

from tray_app.timeutil import format_time_left, from_epoch, iso_utc, parse_time, short_badge

NOON = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("text", [
    "2026-11-27T12:00:00Z",  # AWS CLI v2
    "2026-11-27T12:00:00UTC",  # older AWS CLI
    "2026-11-27T12:00:00 UTC",
    "2026-11-27 12:00:00 UTC",
    "2026-11-27T12:00:00utc",
    "2026-11-27T12:00:00z",
    "2026-11-27T12:00:00+00:00",
    "2026-11-27T12:00:00+0000",
    "2026-11-27T13:00:00+01:00",
    "2026-11-27T07:00:00-05:00",
    "2026-11-27T12:00:00",  # naive: taken as UTC
    "  2026-11-27T12:00:00Z\n",
])
def test_time_formats_seen_in_the_wild(text):
    assert parse_time(text) == NOON


def test_go_nanosecond_fractions_are_cut_to_microseconds():
    parsed = parse_time("2026-11-27T12:00:00.123456789Z")
    assert parsed == NOON.replace(microsecond=123456)


@pytest.mark.parametrize("value", [
    "", "soon", "2026-13-01T00:00:00Z", "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00", "1732743887", None, 1732743887, ["2026-11-27"],
])
def test_what_is_not_a_time_gives_none(value):
    assert parse_time(value) is None


def test_epoch_seconds_milliseconds_and_digit_strings():
    stamp = int(NOON.timestamp())
    assert from_epoch(stamp) == NOON
    assert from_epoch(stamp * 1000) == NOON
    assert from_epoch(str(stamp)) == NOON
    assert from_epoch(float(stamp)) == NOON


@pytest.mark.parametrize("value", [True, None, "x", [], 10**400, float("nan"), float("inf"),
                                   -1e20, "1e999"])
def test_implausible_epochs_give_none(value):
    assert from_epoch(value) is None


def test_iso_utc_is_z_suffixed_whole_seconds():
    assert iso_utc(NOON.replace(microsecond=999)) == "2026-11-27T12:00:00Z"
    assert iso_utc(None) is None


@pytest.mark.parametrize(("seconds", "text"), [
    (11 * 3600 + 2 * 60 + 30, "11h 02m"),
    (40 * 60 + 59, "40m"),
    (59, "0m"),
    (3600, "1h 00m"),
    (26 * 3600, "1d 02h"),
    (-2 * 3600 - 10, "expired 2h ago"),
    (-125, "expired 2m ago"),
    (-30, "expired 30s ago"),
    (-3 * 86400, "expired 3d ago"),
    (0, "expired 0s ago"),
    (None, "-"),
])
def test_time_left_wording(seconds, text):
    assert format_time_left(seconds) == text


@pytest.mark.parametrize(("seconds", "badge"), [
    (9 * 3600 + 59, "9h"), (45 * 60, "45m"), (10, "1m"), (0, "!"), (-5, "!"), (None, "?")])
def test_tray_badge(seconds, badge):
    assert short_badge(seconds) == badge
