"""Docker's config.json: plain auths in every key form, and which store serves which host."""

import pytest

from tests.builders import docker_auth, ecr_password, host
from tray_app.errors import SourceError
from tray_app.settings import Paths, Settings
from tray_app.snapshot import take_snapshot
from tray_app.sources.docker_config import file_logins, load_docker_config

DEV = host("222222222222", "eu-central-1")
OPS = host("333333333333", "us-west-2")


def test_missing_config_is_no_logins_and_no_problem(home):
    assert load_docker_config(home.docker_config_path) is None
    snapshot = take_snapshot(Paths.from_env(), Settings())
    assert snapshot.registries == () and snapshot.errors == ()


@pytest.mark.parametrize("key", [DEV, f"https://{DEV}", f"https://{DEV}/", f"{DEV}/v1/",
                                 f"https://{DEV}/v1/", f"https://{DEV.upper()}"])
def test_historic_keys_are_read_with_their_token_expiry(home, key):
    home.docker_config({key: {"auth": docker_auth(11 * 60 + 2)}})
    config = load_docker_config(home.docker_config_path)
    (login,) = file_logins(config).logins
    assert (login.registry.host, login.source, login.key) == (DEV, "docker-config", key)
    assert login.expiry_from == "token"


def test_non_ecr_entries_and_empty_placeholders_are_ignored(home):
    home.docker_config({"https://index.docker.io/v1/": {"auth": docker_auth(60)},
                        "ghcr.io": {"auth": "dXNlcjpwYXNz"}, DEV: {}, OPS: {"auth": ""}})
    assert file_logins(load_docker_config(home.docker_config_path)).logins == []


def test_identity_free_password_field_is_read_too(home):
    home.docker_config({DEV: {"username": "AWS", "password": ecr_password(30)}})
    (login,) = file_logins(load_docker_config(home.docker_config_path)).logins
    assert login.expires_at is not None


def test_two_keys_for_one_host_give_one_row_preferring_the_bare_key(home):
    home.docker_config({f"https://{DEV}/v1/": {"auth": docker_auth(10)},
                        DEV: {"auth": docker_auth(300)}})
    (row,) = take_snapshot(Paths.from_env(), Settings()).registries
    assert row.state.value == "ok"
    assert 295 * 60 < row.seconds_left <= 300 * 60


def test_helpers_are_read_and_hosts_normalised(home):
    home.docker_config({DEV: {}}, credsStore="pass",
                       credHelpers={f"https://{OPS}/": "ecr-login", "ghcr.io": "gh", DEV: 5})
    config = load_docker_config(home.docker_config_path)
    assert config.creds_store == "pass"
    assert config.cred_helpers == {OPS: "ecr-login", "ghcr.io": "gh"}
    assert config.store_for(OPS) == "ecr-login"
    assert config.store_for(DEV) == "pass"


def test_a_creds_store_makes_docker_ignore_leftover_plain_auths(home):
    home.docker_config({DEV: {"auth": docker_auth(60)}}, credsStore="pass")
    assert file_logins(load_docker_config(home.docker_config_path)).logins == []


def test_hosts_under_cred_helpers_are_not_read_from_the_file(home):
    home.docker_config({DEV: {"auth": docker_auth(60)}, OPS: {"auth": docker_auth(60)}},
                       credHelpers={DEV: "ecr-login"})
    logins = file_logins(load_docker_config(home.docker_config_path)).logins
    assert [login.registry.host for login in logins] == [OPS]


@pytest.mark.parametrize(("extra", "message"), [
    ({"credsStore": 7}, "`credsStore` is not a string"),
    ({"credHelpers": ["ecr-login"]}, "`credHelpers` is not an object"),
])
def test_wrong_types_raise_a_source_error_naming_the_file(home, extra, message):
    home.docker_config({DEV: {"auth": docker_auth(60)}}, **extra)
    with pytest.raises(SourceError) as caught:
        load_docker_config(home.docker_config_path)
    assert message in str(caught.value) and str(home.docker_config_path) in str(caught.value)


def test_docker_config_env_moves_the_file(home, monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "elsewhere"))
    home.env["DOCKER_CONFIG"] = str(tmp_path / "elsewhere")
    home.docker_config({DEV: {"auth": docker_auth(60)}})
    assert (tmp_path / "elsewhere" / "config.json").exists()
    (row,) = take_snapshot(Paths.from_env(), Settings()).registries
    assert row.host == DEV
