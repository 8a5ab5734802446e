"""Podman's auth.json: REGISTRY_AUTH_FILE, XDG_RUNTIME_DIR, XDG_CONFIG_HOME; repository keys."""

from pathlib import Path

from tests.builders import docker_auth, host
from tray_app.settings import Paths, Settings
from tray_app.snapshot import take_snapshot

DEV = host("222222222222", "eu-central-1")
OPS = host("333333333333", "us-west-2")


def rows_by_host(snapshot):
    return {r.host: r for r in snapshot.registries}


def test_runtime_auth_file_with_repository_keys(home):
    home.podman_auth({f"{DEV}/team/app": {"auth": docker_auth(100)},
                      "public.ecr.aws/org/img": {"auth": docker_auth(8)},
                      "quay.io/org/repo": {"auth": docker_auth(100)}})
    rows = rows_by_host(take_snapshot(Paths.from_env(), Settings()))
    assert set(rows) == {DEV, "public.ecr.aws"}
    assert rows[DEV].source == "podman" and rows[DEV].state.value == "ok"
    assert rows["public.ecr.aws"].state.value == "critical"


def test_bare_host_key_beats_a_repository_key_for_the_same_host(home):
    home.podman_auth({f"{DEV}/team/app": {"auth": docker_auth(5)},
                      DEV: {"auth": docker_auth(300)}})
    (row,) = take_snapshot(Paths.from_env(), Settings()).registries
    assert row.state.value == "ok"


def test_registry_auth_file_replaces_the_default_locations(home, monkeypatch, tmp_path):
    home.podman_auth({OPS: {"auth": docker_auth(100)}})
    explicit = home.podman_auth({DEV: {"auth": docker_auth(100)}}, tmp_path / "mine.json")
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(explicit))
    assert set(rows_by_host(take_snapshot(Paths.from_env(), Settings()))) == {DEV}


def test_runtime_file_wins_over_xdg_config_home_for_the_same_host(home):
    config_home_file = Path(home.env["XDG_CONFIG_HOME"]) / "containers" / "auth.json"
    home.podman_auth({DEV: {"auth": docker_auth(5)}, OPS: {"auth": docker_auth(200)}},
                     config_home_file)
    home.podman_auth({DEV: {"auth": docker_auth(300)}})
    rows = rows_by_host(take_snapshot(Paths.from_env(), Settings()))
    assert rows[DEV].state.value == "ok"  # the runtime file's 300 min, not the 5 min below
    assert rows[OPS].state.value == "ok"  # only in the XDG config file: still found


def test_xdg_config_home_file_alone(home, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    home.podman_auth({DEV: {"auth": docker_auth(100)}}, tmp_path / "cfg/containers/auth.json")
    assert set(rows_by_host(take_snapshot(Paths.from_env(), Settings()))) == {DEV}


def test_same_host_in_docker_and_podman_gives_one_row_per_source(home):
    home.docker_config({DEV: {"auth": docker_auth(44)}})
    home.podman_auth({DEV: {"auth": docker_auth(539)}})
    rows = take_snapshot(Paths.from_env(), Settings()).registries
    assert [(r.source, r.state.value) for r in rows] == [("docker-config", "warning"),
                                                        ("podman", "ok")]
