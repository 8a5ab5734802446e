"""The direct config.json write (no docker CLI): merge, keep keys and mode, refuse bad files."""

from __future__ import annotations

import json
import stat

import pytest

from tests.builders import docker_auth, host
from tray_app.renew.errors import RenewError
from tray_app.renew.store import write_docker_auth

HOST = host("222222222222", "eu-central-1")


def files_in(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_creates_a_new_file_with_mode_0600(tmp_path):
    path = tmp_path / "docker" / "config.json"
    write_docker_auth(path, HOST, docker_auth(720))
    assert json.loads(path.read_text()) == {"auths": {HOST: {"auth": docker_auth(720)}}}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert files_in(path.parent) == ["config.json"]


def test_keeps_every_other_key_entry_field_and_the_mode(home):
    path = home.docker_config({HOST: {"auth": docker_auth(-5), "email": "me@example.com"},
                               "ghcr.io": {"auth": "dXNlcjpwYXNz"}},
                              credHelpers={"other.example": "secretservice"},
                              unknownToDocker={"nested": [1, 2, 3]})
    path.chmod(0o640)
    fresh = docker_auth(720)
    write_docker_auth(path, HOST, fresh)
    document = json.loads(path.read_text())
    assert document["auths"][HOST] == {"auth": fresh, "email": "me@example.com"}
    assert document["auths"]["ghcr.io"] == {"auth": "dXNlcjpwYXNz"}
    assert document["credHelpers"] == {"other.example": "secretservice"}
    assert document["unknownToDocker"] == {"nested": [1, 2, 3]}
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert files_in(path.parent) == ["config.json"]


def test_updates_every_key_form_of_the_host(home):
    path = home.docker_config({f"https://{HOST}": {"auth": docker_auth(-5)},
                               f"{HOST}/v1/": {"auth": docker_auth(-5)}})
    fresh = docker_auth(720)
    write_docker_auth(path, HOST, fresh)
    auths = json.loads(path.read_text())["auths"]
    assert auths == {f"https://{HOST}": {"auth": fresh}, f"{HOST}/v1/": {"auth": fresh}}


def test_writes_through_a_symlink_and_keeps_it(home, tmp_path):
    real = tmp_path / "dotfiles" / "docker-config.json"
    real.parent.mkdir()
    real.write_text(json.dumps({"auths": {}}))
    home.docker_config_path.parent.mkdir(parents=True)
    home.docker_config_path.symlink_to(real)
    write_docker_auth(home.docker_config_path, HOST, docker_auth(720))
    assert home.docker_config_path.is_symlink()
    assert HOST in json.loads(real.read_text())["auths"]


@pytest.mark.parametrize("content, message", [
    (b'{"auths": {', "not valid JSON"),
    (b"", "file is empty"),
    (b"\x00\xff\xfe garbage", "not text"),
    (b'{"auths": []}', "`auths` is not an object"),
    (b"[1, 2]", "not a Docker config"),
])
def test_never_touches_a_file_it_cannot_parse(home, content, message):
    path = home.docker_config_path
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    path.chmod(0o600)
    with pytest.raises(RenewError) as raised:
        write_docker_auth(path, HOST, docker_auth(720))
    assert message in str(raised.value) and str(path) in str(raised.value)
    assert "not touched" in str(raised.value)
    assert path.read_bytes() == content
    assert files_in(path.parent) == ["config.json"]

