"""Alert rules driven by a controllable clock over real files in a temporary HOME."""

from __future__ import annotations

import os
import stat
from datetime import timedelta

import pytest

from tests.builders import DEV_REGISTRY, OPS_REGISTRY, SSO_DEV_CONFIG, host, in_
from tests.loop_support import FakeClock, RecordingNotifier
from tray_app.alerts import plan_alerts
from tray_app.alertstate import TrayState, load_tray_state, save_tray_state, tray_state_path
from tray_app.settings import Paths, Settings
from tray_app.snapshot import take_snapshot
from tray_app.tokens import make_authorization_token, make_ecr_password
from tray_app.ui.loop import TrayLoop

# The dev-only config plus registration scopes.
SSO_CONFIG = SSO_DEV_CONFIG + "sso_registration_scopes = sso:account:access\n"


def auth_expiring_at(expiry) -> dict:
    return {"auth": make_authorization_token(make_ecr_password(expiry))}


class Rules:
    """plan_alerts applied the way the loop applies it: remember what was marked."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self.sent: set[str] = set()

    def at(self, moment, quiet=frozenset()):
        snapshot = take_snapshot(Paths.from_env(), self.settings, now=moment)
        plan = plan_alerts(snapshot, self.sent, moment, self.settings, quiet)
        self.sent |= plan.mark_sent
        return plan.notification


@pytest.fixture
def expiry():
    return in_(120)


@pytest.fixture
def one_login(home, expiry):
    home.docker_config({DEV_REGISTRY: auth_expiring_at(expiry)})
    return expiry


def test_each_threshold_fires_once_as_time_passes(one_login):
    rules, expiry = Rules(), one_login
    assert rules.at(expiry - timedelta(minutes=61)) is None
    sixty = rules.at(expiry - timedelta(minutes=60))
    assert sixty.title == "ECR login 222222222222 eu-central-1 ends in 60 min"
    # the action first (mako and others cut long bodies), then the details
    assert sixty.body == ("To renew: click it in the tray menu to log in again\n"
                          "222222222222 eu-central-1 ends in 60 min")
    # servers with action buttons get a "Log in again" that runs what the menu row runs
    assert sixty.button.key == "login" and sixty.button.label == "Log in again"
    assert sixty.button.action == ("refresh", DEV_REGISTRY, "docker-config")
    assert sixty.button.body.startswith("Press Log in again to renew.\n")
    assert sixty.subject == f"refresh|{DEV_REGISTRY}|docker-config"
    assert rules.at(expiry - timedelta(minutes=59)) is None
    assert rules.at(expiry - timedelta(minutes=16)) is None
    fifteen = rules.at(expiry - timedelta(minutes=15))
    assert "ends in 15 min" in fifteen.title and fifteen.urgent
    assert rules.at(expiry - timedelta(minutes=1)) is None
    expired = rules.at(expiry)
    assert expired.title == "ECR login 222222222222 eu-central-1 expired"
    assert rules.at(expiry + timedelta(minutes=30)) is None


def test_a_renewed_login_alerts_again(home, one_login):
    rules, expiry = Rules(), one_login
    assert rules.at(expiry - timedelta(minutes=10)) is not None
    renewed = expiry + timedelta(hours=11)
    home.docker_config({DEV_REGISTRY: auth_expiring_at(renewed)})
    assert rules.at(expiry - timedelta(minutes=9)) is None
    assert "ends in 60 min" in rules.at(renewed - timedelta(minutes=60)).title


def test_several_due_together_make_one_notification(home, expiry):
    home.docker_config({DEV_REGISTRY: auth_expiring_at(expiry),
                        OPS_REGISTRY: auth_expiring_at(expiry)})
    home.podman_auth({DEV_REGISTRY: auth_expiring_at(expiry)})
    rules = Rules()
    note = rules.at(expiry - timedelta(minutes=14))
    assert note.title == "3 ECR logins need renewing"
    assert "222222222222 eu-central-1 ends in 14 min" in note.body
    assert "333333333333 us-west-2 ends in 14 min" in note.body
    assert note.body.count("\n") == 3  # one line saying what to do, then three logins
    assert note.body.startswith("To renew: click each in the tray menu")
    assert note.button.action == ("refresh-expiring",) and note.subject == "several"
    assert rules.at(expiry - timedelta(minutes=13)) is None


def test_a_clock_jump_folds_overdue_alerts_into_the_most_severe(one_login):
    rules, expiry = Rules(), one_login
    assert rules.at(expiry - timedelta(minutes=90)) is None
    after_resume = rules.at(expiry + timedelta(hours=2))  # slept through 60, 15 and expiry
    assert after_resume.title.endswith("expired")
    assert "60 min" not in after_resume.body and "15 min" not in after_resume.body
    assert len([k for k in rules.sent if "|login|" in f"|{k}"]) == 3  # all three marked
    assert rules.at(expiry + timedelta(hours=2, minutes=1)) is None


def test_thresholds_come_from_the_config(home, one_login):
    home.app_config("[notifications]\nminutes_before = [30]\n")
    settings = Settings.load(Paths.from_env().config_file)
    rules, expiry = Rules(settings), one_login
    assert rules.at(expiry - timedelta(minutes=59)) is None
    assert "30 min" in rules.at(expiry - timedelta(minutes=30)).title
    assert rules.at(expiry) is None  # 0 is not in this user's list


def test_quiet_logins_are_neither_told_nor_marked(one_login):
    rules, expiry = Rules(), one_login
    moment = expiry - timedelta(minutes=50)
    assert rules.at(moment, quiet={(DEV_REGISTRY, "docker-config")}) is None
    assert rules.sent == set()
    assert rules.at(moment) is not None  # once the silent renewal is over, it is told


def test_sso_session_needing_a_browser_alerts_with_what_to_do(home):
    home.aws_config(SSO_CONFIG)
    session_end = in_(120)
    home.sso_token("corp", "https://corp.awsapps.com/start", session_end, refresh=False)
    rules = Rules()
    note = rules.at(session_end - timedelta(minutes=15))
    assert note.title == "SSO session corp ends in 15 min"
    assert note.body == "To renew: open the tray to sign in\nSSO session corp ends in 15 min"
    assert (note.button.key, note.button.label) == ("sign-in", "Sign in")
    assert note.button.action == ("sign-in", "corp")
    assert rules.at(session_end - timedelta(minutes=14)) is None


def test_a_refreshable_sso_session_does_not_alert(home):
    home.aws_config(SSO_CONFIG)
    session_end = in_(120)
    home.sso_token("corp", "https://corp.awsapps.com/start", session_end, refresh=True)
    assert Rules().at(session_end - timedelta(minutes=5)) is None


def test_managed_and_unknown_logins_never_alert(home):
    home.docker_config({host("444444444444", "eu-west-1"): {"auth": _no_expiry_auth()}},
                       credHelpers={host("555555555555", "eu-west-1"): "ecr-login"})
    assert Rules().at(in_(0)) is None


def _no_expiry_auth() -> str:
    from tests.builders import ecr_password
    return make_authorization_token(ecr_password(None))


def test_no_secret_reaches_the_text(home, expiry):
    password = make_ecr_password(expiry, payload="c2VjcmV0LXBheWxvYWQtbm90LWZvci1leWVz")
    home.docker_config({DEV_REGISTRY: {"auth": make_authorization_token(password)}})
    home.aws_config(SSO_CONFIG)
    home.sso_token("corp", "https://corp.awsapps.com/start", expiry, refresh=False)
    note = Rules().at(expiry - timedelta(minutes=5))
    text = note.title + note.body
    for secret in (password, make_authorization_token(password), "sso-access-token-secret",
                   "c2VjcmV0LXBheWxvYWQtbm90LWZvci1leWVz"):
        assert secret not in text


def test_what_was_sent_survives_a_restart(home, one_login):
    home.app_config("[renew]\nautomatic = false\n")
    expiry = one_login
    clock = FakeClock(expiry - timedelta(minutes=10))
    first = RecordingNotifier()
    TrayLoop(Paths.from_env(), first, clock=clock).step()
    assert len(first.sent) == 1
    path = tray_state_path(Paths.from_env().state_dir)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    clock.advance(120)
    second = RecordingNotifier()
    TrayLoop(Paths.from_env(), second, clock=clock).step()  # a restart: fresh process state
    assert second.sent == []


def test_old_keys_are_forgotten_and_a_damaged_record_is_replaced(home, one_login):
    state_dir = Paths.from_env().state_dir
    state_dir.mkdir(parents=True)
    tray_state_path(state_dir).write_text("{not json")
    assert load_tray_state(state_dir).sent_alerts == frozenset()
    expiry = one_login
    stale = f"login|{DEV_REGISTRY}|docker-config|2020-01-01T00:00:00Z|15"
    state = TrayState(frozenset({stale})).with_sent({"sso|corp|" + _iso(expiry) + "|15"},
                                                    expiry)
    save_tray_state(state_dir, state)
    assert load_tray_state(state_dir).sent_alerts == {"sso|corp|" + _iso(expiry) + "|15"}


def _iso(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_alert_rules_loop_and_watch_import_no_gui_library(home):
    from tests.unit.test_layering import HEAVY, modules_after

    loaded = modules_after("import tray_app.alerts, tray_app.alertstate, tray_app.ui.loop, "
                           "tray_app.ui.menu, tray_app.commands.watch, tray_app.commands.tray",
                           env=home.full_env())
    assert {m.split(".")[0] for m in loaded} & set(HEAVY) == set()
