"""`ensure`'s pure parts: durations, which logins are short of time, and the command line
split at `--` (the end-to-end runs are in tests/integration/test_ensure.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.builders import host
from tray_app.cli import parse_args
from tray_app.hosts import parse_registry
from tray_app.model import KubeSecretRef, RegistryStatus, SsoStatus, State
from tray_app.renew.plan import short_of_time
from tray_app.timeutil import parse_duration

DEV = host("222222222222", "eu-central-1")


@pytest.mark.parametrize(("text", "seconds"), [
    ("90m", 5400), ("2h", 7200), ("1h30m", 5400), ("45s", 45), ("1d", 86400),
    ("1h 30m", 5400), ("2H", 7200), ("0s", 0), ("1h0m30s", 3630)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "90", "m", "1.5h", "30m1h", "-5m", "2 hours", "1h-"])
def test_not_durations(text):
    assert parse_duration(text) is None


def login(seconds_left, source="docker-config", profile="dev", kube=None, managed=False):
    return RegistryStatus(registry=parse_registry(DEV), source="ecr-login" if managed else source,
                          expires_at=None, seconds_left=seconds_left,
                          state=State.MANAGED if managed else State.OK, detail="",
                          profile=profile, kubernetes=kube)


def session(seconds_left, refreshable=False):
    expires = None if seconds_left is None else datetime(2026, 12, 4, tzinfo=UTC)
    return SsoStatus("corp", "https://corp.awsapps.com/start", "eu-west-1", expires,
                     seconds_left, State.OK, refreshable, ("dev",))


def test_token_logins_short_of_the_minimum_or_of_unknown_expiry():
    short, enough, unknown = login(1800), login(7200), login(None)
    secret = login(600, source="kubernetes", kube=KubeSecretRef("kind-dev", "default", "s"))
    assert short_of_time([short, enough, unknown, secret], 5400) == [short, unknown, secret]


def test_ecr_login_rows_last_as_long_as_the_sso_session_behind_them():
    managed = login(None, managed=True)
    assert short_of_time([managed], 3600) == []  # no SSO: static keys, it fetches tokens
    assert short_of_time([managed], 3600, [session(7200)]) == []
    assert short_of_time([managed], 3600, [session(600)]) == [managed]
    assert short_of_time([managed], 3600, [session(None)]) == [managed]  # not signed in
    assert short_of_time([managed], 3600, [session(600, refreshable=True)]) == []


def test_everything_after_the_first_dashes_is_the_command_untouched():
    args = parse_args(["ensure", "--min", "2h", DEV, "--", "printf", "%s|", "--min", "--",
                       "-h"])
    assert (args.min, args.hosts) == ("2h", [DEV])
    assert args.command_argv == ["printf", "%s|", "--min", "--", "-h"]
    assert parse_args(["--debug", "ensure"]).command_argv == []
    assert parse_args(["ensure", "--"]).command_argv == []


def test_other_commands_keep_argparse_meaning_of_dashes():
    args = parse_args(["login", "--", DEV])
    assert args.hosts == [DEV] and not hasattr(args, "command_argv")


def test_after_a_renewal_only_known_ends_count():
    from tray_app.renew.plan import known_short_of_time

    unknown, short, managed = login(None), login(600), login(None, managed=True)
    assert known_short_of_time([unknown, short], 3600) == [short]
    assert known_short_of_time([managed], 3600, [session(1800)]) == [managed]
    assert known_short_of_time([managed], 3600, [session(None)]) == []
