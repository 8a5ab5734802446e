"""The snapshot: expiry precedence, states and thresholds, registry -> profile, SSO sessions."""

from datetime import timedelta

import pytest

from tests.builders import docker_auth, host, in_
from tray_app.model import State
from tray_app.settings import Paths, Settings
from tray_app.snapshot import classify, take_snapshot
from tray_app.statefile import RecordedLogin, read_recorded_logins, record_logins

DEV = host("222222222222", "eu-central-1")
OPS = host("333333333333", "us-west-2")


def snapshot(settings: Settings | None = None):
    return take_snapshot(Paths.from_env(), settings or Settings())


def only_row(settings: Settings | None = None):
    (row,) = snapshot(settings).registries
    return row


# -- expiry precedence: token > app state file > ecr-login cache > unknown -----------------

def test_the_token_expiry_wins_over_every_fallback(home):
    home.docker_config({DEV: {"auth": docker_auth(100)}})
    record_logins(home.state_dir, [RecordedLogin(DEV, in_(300))])
    home.ecr_login_cache({DEV: in_(500)})
    row = only_row()
    assert row.expiry_from == "token" and 95 * 60 < row.seconds_left <= 100 * 60


def test_the_app_state_file_comes_next(home):
    home.docker_config({DEV: {"auth": docker_auth(None)}})
    recorded = in_(300)
    record_logins(home.state_dir, [RecordedLogin(DEV, recorded, profile="dev")])
    home.ecr_login_cache({DEV: in_(500)})
    row = only_row()
    assert (row.expiry_from, row.expires_at) == ("app-state", recorded)


def test_then_the_ecr_login_cache(home):
    home.docker_config({DEV: {"auth": docker_auth(None)}})
    cached = in_(500)
    home.ecr_login_cache({DEV: cached})
    row = only_row()
    assert (row.expiry_from, row.expires_at) == ("ecr-login-cache", cached)


def test_else_unknown_with_a_detail_saying_why(home):
    home.docker_config({DEV: {"auth": docker_auth(None)}})
    row = only_row()
    assert (row.state, row.expires_at, row.seconds_left) == (State.UNKNOWN, None, None)
    assert "carries no expiry" in row.detail and f"ecr-token-tray login {DEV}" in row.detail


def test_state_file_round_trip_keeps_other_hosts_and_mode(home):
    record_logins(home.state_dir, [RecordedLogin(DEV, in_(100), "dev", in_(-620))])
    record_logins(home.state_dir, [RecordedLogin(OPS, in_(200))])
    recorded = read_recorded_logins(home.state_dir)
    assert set(recorded) == {DEV, OPS} and recorded[DEV].profile == "dev"
    assert (home.state_dir / "logins.json").stat().st_mode & 0o777 == 0o600


# -- states ----------------------------------------------------------------------------

@pytest.mark.parametrize(("minutes", "state"), [
    (61, State.OK), (60, State.WARNING), (16, State.WARNING), (15, State.CRITICAL),
    (1, State.CRITICAL), (0, State.EXPIRED), (-120, State.EXPIRED)])
def test_default_thresholds(minutes, state):
    assert classify(minutes * 60, Settings()) is state


def test_thresholds_come_from_config_toml(home):
    home.app_config("[thresholds]\nwarning_minutes = 240\ncritical_minutes = 120\n")
    home.docker_config({DEV: {"auth": docker_auth(200)}, OPS: {"auth": docker_auth(100)}})
    settings = Settings.load(Paths.from_env().config_file)
    states = {r.host: r.state for r in snapshot(settings).registries}
    assert states == {DEV: State.WARNING, OPS: State.CRITICAL}


def test_ecr_token_tray_config_names_another_file(home, monkeypatch, tmp_path):
    other = tmp_path / "team.toml"
    other.write_text("[thresholds]\nwarning_minutes = 10\ncritical_minutes = 5\n")
    monkeypatch.setenv("ECR_TOKEN_TRAY_CONFIG", str(other))
    home.app_config("[thresholds]\nwarning_minutes = 600\n")  # not read: the env wins
    home.docker_config({DEV: {"auth": docker_auth(30)}})
    assert only_row(Settings.load(Paths.from_env().config_file)).state is State.OK


def test_ignored_hosts_are_hidden(home):
    home.docker_config({DEV: {"auth": docker_auth(30)}, OPS: {"auth": docker_auth(30)}})
    rows = snapshot(Settings(ignored_hosts=frozenset({OPS}))).registries
    assert [r.host for r in rows] == [DEV]


# -- registry -> profile ----------------------------------------------------------------

PROFILES = """
[profile zeta]
sso_session = corp
sso_account_id = 222222222222
region = us-east-1

[profile alpha]
sso_session = corp
sso_account_id = 222222222222
region = us-east-1

[profile dev]
sso_session = corp
sso_account_id = 222222222222
region = eu-central-1

[profile ops-role]
role_arn = arn:aws:iam::333333333333:role/ops
source_profile = alpha

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1
"""


def test_profile_of_the_same_account_and_region_is_chosen(home):
    home.aws_config(PROFILES)
    home.docker_config({DEV: {"auth": docker_auth(30)}, OPS: {"auth": docker_auth(30)},
                        host("222222222222", "us-east-1"): {"auth": docker_auth(30)},
                        host("999999999999", "eu-central-1"): {"auth": docker_auth(30)},
                        "public.ecr.aws": {"auth": docker_auth(30)}})
    profiles = {r.host: r.profile for r in snapshot().registries}
    assert profiles == {
        DEV: "dev",  # same account, same region
        host("222222222222", "us-east-1"): "alpha",  # same region twice: by name
        OPS: "ops-role",  # account named by role_arn
        host("999999999999", "eu-central-1"): None,
        "public.ecr.aws": None,
    }


def test_the_choice_is_deterministic_whatever_the_section_order(home):
    sections = PROFILES.strip().split("\n\n")
    home.docker_config({host("222222222222", "us-east-1"): {"auth": docker_auth(30)}})
    chosen = set()
    for order in (sections, list(reversed(sections))):
        home.aws_config("\n\n".join(order) + "\n")
        chosen.add(only_row().profile)
    assert chosen == {"alpha"}


def test_the_config_file_mapping_wins(home):
    home.aws_config(PROFILES)
    home.docker_config({DEV: {"auth": docker_auth(30)}})
    assert only_row(Settings(profile_for_host={DEV: "zeta"})).profile == "zeta"


# -- SSO sessions -----------------------------------------------------------------------

SSO = """
[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1

[profile dev]
sso_session = corp
sso_account_id = 222222222222

[profile ops]
sso_start_url = https://legacy.awsapps.com/start
sso_region = us-east-1
sso_account_id = 333333333333
"""


def test_sso_sessions_of_both_styles(home):
    home.aws_config(SSO)
    corp_expiry = in_(3 * 60 + 19)
    home.sso_token("corp", "https://corp.awsapps.com/start", corp_expiry)
    home.sso_token("https://legacy.awsapps.com/start", "https://legacy.awsapps.com/start",
                   in_(-30), refresh=False, region="us-east-1")
    sessions = {s.name: s for s in snapshot().sso_sessions}
    corp, legacy = sessions["corp"], sessions["https://legacy.awsapps.com/start"]
    assert (corp.expires_at, corp.state, corp.refreshable, corp.profiles) == (
        corp_expiry, State.OK, True, ("dev",))
    assert (legacy.state, legacy.refreshable, legacy.profiles, legacy.legacy) == (
        State.EXPIRED, False, ("ops",), True)
    assert legacy.start_url == "https://legacy.awsapps.com/start" and legacy.region == "us-east-1"


def test_a_session_without_a_cached_token_is_unknown(home):
    home.aws_config(SSO)
    (corp, _legacy) = snapshot().sso_sessions
    assert (corp.expires_at, corp.state, corp.refreshable) == (None, State.UNKNOWN, False)


def test_legacy_sessions_never_count_as_refreshable(home):
    home.aws_config(SSO)
    home.sso_token("https://legacy.awsapps.com/start", "https://legacy.awsapps.com/start",
                   in_(60), refresh=True)
    legacy = snapshot().sso_sessions[1]
    assert legacy.legacy and legacy.refreshable is False


def test_sso_for_profile_and_soonest(home):
    home.aws_config(SSO)
    home.docker_config({DEV: {"auth": docker_auth(30)}, OPS: {"auth": docker_auth(300)}},
                       credHelpers={host("444444444444"): "ecr-login"})
    home.ecr_login_cache({host("444444444444"): in_(1)})
    result = snapshot()
    assert result.soonest().host == DEV  # managed rows are not watched
    assert result.sso_for_profile("dev").name == "corp"
    assert result.sso_for_profile(None) is None


def test_now_can_be_passed_in(home):
    home.docker_config({DEV: {"auth": docker_auth(100)}})
    later = take_snapshot(Paths.from_env(), Settings(), now=in_(0) + timedelta(minutes=90))
    assert later.registries[0].state is State.CRITICAL
