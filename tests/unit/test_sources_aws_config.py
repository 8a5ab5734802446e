"""~/.aws/config (sso-session and legacy profiles) and the SSO token cache."""

import hashlib
import json

import pytest

from tests.builders import in_
from tray_app.errors import SourceError
from tray_app.sources.aws_config import load_aws_config, read_sso_token

CONFIG = """
[default]
region = eu-west-1

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1
sso_registration_scopes = sso:account:access

[profile dev]
sso_session = corp
sso_account_id = 222222222222
sso_role_name = Developer
region = eu-central-1

[profile ops]
sso_start_url = https://legacy.awsapps.com/start
sso_region = us-east-1
sso_account_id = 333333333333
sso_role_name = Admin

[profile deploy]
role_arn = arn:aws:iam::444444444444:role/deploy
source_profile = dev

[profile  spaced]
sso_session = corp
"""


def test_sessions_of_both_styles_and_their_profiles(home):
    config = load_aws_config(home.aws_config(CONFIG))
    assert set(config.profiles) == {"default", "dev", "ops", "deploy", "spaced"}
    corp = config.sessions["corp"]
    legacy = config.sessions["https://legacy.awsapps.com/start"]
    assert (corp.start_url, corp.region, corp.legacy) == ("https://corp.awsapps.com/start",
                                                          "eu-west-1", False)
    assert (legacy.region, legacy.legacy) == ("us-east-1", True)
    assert corp.cache_key == hashlib.sha1(b"corp").hexdigest()
    assert legacy.cache_key == hashlib.sha1(b"https://legacy.awsapps.com/start").hexdigest()
    assert config.session_of(config.profiles["dev"]) is corp
    assert config.session_of(config.profiles["deploy"]) is corp  # through source_profile
    assert config.session_of(config.profiles["spaced"]) is corp
    assert config.session_of(config.profiles["ops"]) is legacy
    assert config.profiles["deploy"].account_id == "444444444444"
    assert config.problems == ()


def test_source_profile_loops_end(home):
    config = load_aws_config(home.aws_config(
        "[profile a]\nsource_profile = b\n[profile b]\nsource_profile = a\n"
        "[profile c]\nsource_profile = c\n"))
    assert config.session_of(config.profiles["a"]) is None
    assert config.session_of(config.profiles["c"]) is None


def test_missing_sso_session_section_is_a_problem_not_a_crash(home):
    config = load_aws_config(home.aws_config("[profile dev]\nsso_session = gone\n"))
    (problem,) = config.problems
    assert "profile dev names sso_session 'gone'" in problem and "aws configure sso" in problem


def test_duplicate_sections_are_read_and_reported(home):
    config = load_aws_config(home.aws_config(
        "[profile dev]\nregion = eu-west-1\n[profile dev]\nsso_account_id = 222222222222\n"))
    assert config.profiles["dev"].account_id == "222222222222"
    assert "section [profile dev] appears twice" in config.problems[0]


def test_invalid_ini_raises_a_source_error_naming_the_file(home):
    path = home.aws_config("region = eu-west-1\n[profile dev\n")
    with pytest.raises(SourceError) as caught:
        load_aws_config(path)
    assert str(path) in str(caught.value) and "not a valid INI file" in str(caught.value)


def test_token_is_found_by_the_cli_key_rule_for_both_styles(home):
    config = load_aws_config(home.aws_config(CONFIG))
    corp_expiry = in_(200)
    home.sso_token("corp", "https://corp.awsapps.com/start", corp_expiry)
    home.sso_token("https://legacy.awsapps.com/start", "https://legacy.awsapps.com/start",
                   in_(30), refresh=False, region="us-east-1")
    corp = read_sso_token(home.sso_cache_dir, config.sessions["corp"])
    legacy = read_sso_token(home.sso_cache_dir,
                            config.sessions["https://legacy.awsapps.com/start"])
    assert corp.expires_at == corp_expiry
    assert corp.refreshable(in_(0)) is True
    assert legacy.has_refresh_token is False and legacy.refreshable(in_(0)) is False


@pytest.mark.parametrize("written", [
    "{:%Y-%m-%dT%H:%M:%SZ}", "{:%Y-%m-%dT%H:%M:%SUTC}", "{:%Y-%m-%d %H:%M:%S UTC}",
    "{:%Y-%m-%dT%H:%M:%S+00:00}", "{:%Y-%m-%dT%H:%M:%S.123456789Z}",
])
def test_lenient_expiry_formats(home, written):
    config = load_aws_config(home.aws_config(CONFIG))
    expires = in_(100)
    home.sso_token("corp", "https://corp.awsapps.com/start", expires,
                   expires_text=written.format(expires))
    token = read_sso_token(home.sso_cache_dir, config.sessions["corp"])
    assert token.expires_at.replace(microsecond=0) == expires


def test_epoch_number_expiry_is_understood(home):
    config = load_aws_config(home.aws_config(CONFIG))
    expires = in_(100)
    home.sso_token("corp", "https://corp.awsapps.com/start", expires,
                   expires_text=int(expires.timestamp()))
    assert read_sso_token(home.sso_cache_dir, config.sessions["corp"]).expires_at == expires


def test_registration_files_are_skipped_and_odd_names_found_by_start_url(home):
    config = load_aws_config(home.aws_config(CONFIG))
    home.sso_registration("corp", "https://corp.awsapps.com/start")
    assert read_sso_token(home.sso_cache_dir, config.sessions["corp"]) is None
    home.sso_token("corp", "https://corp.awsapps.com/start", in_(50), file_stem="renamed")
    token = read_sso_token(home.sso_cache_dir, config.sessions["corp"])
    assert token.path.name == "renamed.json"


@pytest.mark.parametrize(("refresh", "registration_days", "drop", "refreshable"), [
    (True, 80, None, True),
    (True, -1, None, False),  # registration expired
    (False, 80, None, False),  # no refresh token
    (True, 80, "clientSecret", False),  # a refresh needs the client too
])
def test_refreshable_flag(home, refresh, registration_days, drop, refreshable):
    config = load_aws_config(home.aws_config(CONFIG))
    path = home.sso_token("corp", "https://corp.awsapps.com/start", in_(100), refresh=refresh,
                          registration_days=registration_days)
    if drop:
        document = json.loads(path.read_text())
        del document[drop]
        home.write_json(path, document)
    token = read_sso_token(home.sso_cache_dir, config.sessions["corp"])
    assert token.refreshable(in_(0)) is refreshable
