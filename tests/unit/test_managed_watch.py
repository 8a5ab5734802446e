"""ecr-login rows watched through the SSO session behind their profile: state, detail,
``credentials_expire_at``, alerts (once), ``status --check`` - over real files."""

from __future__ import annotations

from datetime import timedelta

from tests.builders import SSO_DEV_CONFIG, SSO_START_URL, host, in_
from tray_app.alerts import DueAlert, compose, plan_alerts
from tray_app.model import State
from tray_app.settings import Paths, Settings
from tray_app.snapshot import take_snapshot

MANAGED = host("222222222222", "eu-central-1")


def managed_home(home, session_minutes: float | None, refresh: bool = False,
                 helper: str = "ecr-login-dev"):
    home.aws_config(SSO_DEV_CONFIG)
    home.docker_config({MANAGED: {}}, credHelpers={MANAGED: helper})
    if session_minutes is None:
        return None
    ends = in_(session_minutes)
    home.sso_token("corp", SSO_START_URL, ends, refresh=refresh)
    return ends


def row_of(snapshot):
    (row,) = snapshot.registries
    return row


def test_a_session_ending_in_10_minutes_makes_the_managed_row_critical(home):
    ends = managed_home(home, 10)
    row = row_of(take_snapshot(Paths.from_env(), Settings()))
    assert (row.source, row.profile, row.state) == ("ecr-login", "dev", State.CRITICAL)
    assert row.credentials_from == "SSO session corp"
    assert 540 <= row.credentials_seconds_left <= 600
    assert "with profile dev; SSO session corp ends" in row.detail

    document = home.status_json()
    (json_row,) = document["registries"]
    assert json_row["state"] == "critical"
    assert json_row["credentials_expire_at"] == ends.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert json_row["expires_at"] is None  # the token's own expiry: none cached
    check = home.run_cli("status", "--check")
    assert check.returncode == 1, check.stdout + check.stderr
    assert "(SSO)" in check.stdout and "SSO session corp ends" in check.stdout


def test_a_session_with_hours_left_keeps_the_row_managed_and_tells_its_end(home):
    managed_home(home, 300)
    row = row_of(take_snapshot(Paths.from_env(), Settings()))
    assert row.state == State.MANAGED and row.credentials_expire_at is not None
    (json_row,) = home.status_json()["registries"]
    assert json_row["state"] == "managed" and json_row["credentials_expire_at"].endswith("Z")
    table = home.run_cli("status", "--check")
    assert table.returncode == 0
    assert "SSO session corp ends" in table.stdout


def test_a_refreshable_session_renews_itself_so_its_token_end_is_not_the_rows(home):
    """The helper (AWS SDK with sso-session support) refreshes the access token itself."""
    managed_home(home, 10, refresh=True)
    row = row_of(take_snapshot(Paths.from_env(), Settings()))
    assert row.state == State.MANAGED and row.credentials_expire_at is None
    assert "SSO session corp renews itself" in row.detail
    assert home.status_json()["registries"][0]["credentials_expire_at"] is None
    assert home.run_cli("status", "--check").returncode == 0


def test_plain_ecr_login_uses_the_default_chain_profile(home, monkeypatch):
    managed_home(home, 10, helper="ecr-login")
    monkeypatch.setenv("AWS_PROFILE", "dev")
    row = row_of(take_snapshot(Paths.from_env(), Settings()))
    assert (row.profile, row.state) == ("dev", State.CRITICAL)
    monkeypatch.delenv("AWS_PROFILE")
    row = row_of(take_snapshot(Paths.from_env(), Settings()))
    assert (row.profile, row.state, row.credentials_from) == (None, State.MANAGED, None)


def test_the_managed_row_alerts_once_with_what_ends_and_what_to_do(home):
    managed_home(home, 10)
    settings, sent = Settings(), set()
    now = in_(0)
    snapshot = take_snapshot(Paths.from_env(), settings, now=now)
    plan = plan_alerts(snapshot, sent, now, settings)
    lines = plan.notification.body.splitlines()
    assert any(line.startswith("ecr-login for 222222222222 eu-central-1 stops working in")
               and line.endswith(": SSO session corp ends") for line in lines), lines
    sent |= plan.mark_sent
    later = now + timedelta(minutes=1)
    again = plan_alerts(take_snapshot(Paths.from_env(), settings, now=later), sent, later,
                        settings)
    assert again.notification is None  # once per threshold


def test_the_session_and_the_registries_it_serves_go_out_as_one_notification(home):
    managed_home(home, 15)
    settings = Settings(notify_minutes=(15,))
    now = in_(0)
    plan = plan_alerts(take_snapshot(Paths.from_env(), settings, now=now), set(), now, settings)
    body = plan.notification.body
    assert ("ecr-login for 222222222222 eu-central-1 stops working in 15 min:"
            " SSO session corp ends") in body
    assert "SSO session corp ends in 15 min" in body
    assert plan.notification.urgent


def test_one_managed_alert_reads_as_the_issue_words_it():
    alert = DueAlert("k", "222222222222 eu-central-1", 15, 15 * 60, ends_with="SSO session corp")
    note = compose([alert])
    assert note.title == "ecr-login for 222222222222 eu-central-1 stops working in 15 min"
    # what to do first (issue 10: mako and others cut long bodies), then the details
    assert note.body == ("To renew: sign in\n"
                         "ecr-login for 222222222222 eu-central-1 stops working in 15 min:"
                         " SSO session corp ends")
    ended = compose([DueAlert("k", "222222222222 eu-central-1", 0, -60,
                              ends_with="SSO session corp")])
    assert ended.body == ("To renew: sign in\n"
                          "ecr-login for 222222222222 eu-central-1 stopped working:"
                          " SSO session corp ended")


def test_the_icon_and_soonest_follow_the_session_of_a_managed_row(home):
    managed_home(home, 10)
    snapshot = take_snapshot(Paths.from_env(), Settings())
    soonest = snapshot.soonest()
    assert soonest is not None and soonest.host == MANAGED
    assert soonest.watched_seconds_left == soonest.credentials_seconds_left


def test_the_prompt_summary_and_tooltip_count_a_managed_row_by_its_session(home):
    from tray_app.summary import summarize
    from tray_app.ui.icon import tooltip_lines

    ends = managed_home(home, 10)
    snapshot = take_snapshot(Paths.from_env(), Settings())
    summary = summarize(snapshot, Settings())
    assert (summary.worst, summary.attention) == ("critical", 1)
    assert summary.expires_at == int(ends.timestamp())
    (line,) = tooltip_lines(snapshot)
    assert line.startswith("222222222222 eu-central-1: ") and line.endswith("m left")
