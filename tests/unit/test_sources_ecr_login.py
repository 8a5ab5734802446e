"""amazon-ecr-credential-helper: managed hosts and the expiry of its cache.json."""

import json

from tests.builders import docker_auth, host, in_
from tray_app.model import State
from tray_app.settings import Paths, Settings
from tray_app.snapshot import take_snapshot
from tray_app.sources.ecr_login import read_cache_expiries

DEV = host("222222222222", "eu-central-1")
OPS = host("333333333333", "us-west-2")


def test_cache_entries_are_matched_by_proxy_endpoint_not_key(home):
    dev_expiry, public_expiry = in_(300), in_(100)
    path = home.ecr_login_cache({DEV: dev_expiry, "public.ecr.aws": public_expiry})
    assert read_cache_expiries(path) == {DEV: dev_expiry, "public.ecr.aws": public_expiry}


def test_the_latest_of_several_cached_tokens_wins(home):
    path = home.ecr_login_cache({DEV: in_(30)})
    document = json.loads(path.read_text())
    (entry,) = document["Registries"].values()
    later_expiry = in_(500)
    later = dict(entry, ExpiresAt=later_expiry.strftime("%Y-%m-%dT%H:%M:%SZ"))
    document["Registries"]["eu-central-1-otherprofilehash-222222222222"] = later
    home.write_json(path, document)
    assert read_cache_expiries(path)[DEV] == later_expiry


def test_managed_hosts_show_state_managed_with_the_cached_expiry(home):
    home.docker_config({}, credHelpers={DEV: "ecr-login", OPS: "ecr-login"})
    home.ecr_login_cache({DEV: in_(5 * 60)})
    rows = {r.host: r for r in take_snapshot(Paths.from_env(), Settings()).registries}
    assert rows[DEV].state is State.MANAGED and rows[OPS].state is State.MANAGED
    assert rows[DEV].source == "ecr-login" and rows[DEV].expiry_from == "ecr-login-cache"
    assert 4 * 3600 < rows[DEV].seconds_left <= 5 * 3600
    assert rows[OPS].expires_at is None and "docker-credential-ecr-login" in rows[OPS].detail


def test_managed_rows_never_count_as_expired(home):
    home.docker_config({}, credHelpers={DEV: "ecr-login"})
    home.ecr_login_cache({DEV: in_(-120)})
    (row,) = take_snapshot(Paths.from_env(), Settings()).registries
    assert row.state is State.MANAGED and row.seconds_left < 0


def test_creds_store_ecr_login_manages_every_ecr_host_in_auths(home):
    home.docker_config({DEV: {}, "docker.io": {}}, credsStore="ecr-login")
    (row,) = take_snapshot(Paths.from_env(), Settings()).registries
    assert (row.host, row.state) == (DEV, State.MANAGED)


def test_aws_ecr_cache_dir_moves_the_cache(home, monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_ECR_CACHE_DIR", str(tmp_path / "ecr"))
    home.docker_config({}, credHelpers={DEV: "ecr-login"})
    home.ecr_login_cache({DEV: in_(200)}, path=tmp_path / "ecr" / "cache.json")
    (row,) = take_snapshot(Paths.from_env(), Settings()).registries
    assert row.expires_at is not None


def test_disabled_cache_is_not_read(home, monkeypatch):
    monkeypatch.setenv("AWS_ECR_DISABLE_CACHE", "1")
    home.docker_config({}, credHelpers={DEV: "ecr-login"})
    home.ecr_login_cache({DEV: in_(200)})
    (row,) = take_snapshot(Paths.from_env(), Settings()).registries
    assert row.expires_at is None


def test_cache_is_the_last_expiry_fallback_for_plain_logins(home):
    home.docker_config({DEV: {"auth": docker_auth(None)}})
    home.ecr_login_cache({DEV: in_(200)})
    (row,) = take_snapshot(Paths.from_env(), Settings()).registries
    assert row.expiry_from == "ecr-login-cache" and row.state is State.OK
