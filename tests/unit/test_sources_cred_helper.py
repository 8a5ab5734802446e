"""Credential helpers that misbehave: hang, fail, print garbage or gigabytes, or are missing.

The stand-in helpers are tiny sh scripts: they play third-party misbehaviour. The working
path uses the real docker-credential-pass (tests/integration/test_credential_pass.py).
"""

import subprocess
import time

import pytest

from tests.builders import docker_auth, ecr_password, host
from tray_app.errors import SourceError
from tray_app.model import State
from tray_app.settings import Paths, Settings
from tray_app.snapshot import take_snapshot
from tray_app.sources.cred_helper import CredentialHelper, OutputTooLarge, run_bounded

DEV = host("222222222222", "eu-central-1")
OPS = host("333333333333", "us-west-2")

FAULTS = {
    "hang": "exec sleep 60\n",
    "exit1": 'echo "pass store is locked: exit status 1"; exit 1\n',
    "garbage": "echo '<html>502 Bad Gateway</html>'\n",
    "huge": "exec yes AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
    "nosecret": 'echo "{\\"Username\\": \\"AWS\\"}"\n',
}


@pytest.fixture
def path_with_helpers(home, monkeypatch):
    for name, script in FAULTS.items():
        home.credential_helper(name, script)
    monkeypatch.setenv("PATH", home.path_with_bin)
    return home.path_with_bin


@pytest.mark.parametrize(("helper", "message"), [
    ("hang", "docker-credential-hang get: no answer within 1 s"),
    ("exit1", "docker-credential-exit1 get: failed (exit 1: pass store is locked"),
    ("garbage", "docker-credential-garbage get: printed something that is not JSON"),
    ("huge", "docker-credential-huge get: printed over 1 MiB, stopped it"),
    ("nosecret", "answer has no `Secret` string"),
    ("missing", "docker-credential-missing: not found on PATH"),
])
def test_each_fault_is_one_source_error_naming_the_helper(path_with_helpers, helper, message):
    with pytest.raises(SourceError) as caught:
        CredentialHelper(helper, timeout=1.0).get(DEV)
    assert message in str(caught.value)
    assert caught.value.hint


def test_a_faulty_helper_becomes_a_row_detail_and_the_rest_is_reported(home, path_with_helpers):
    home.docker_config({OPS: {"auth": docker_auth(200)}},
                       credHelpers={DEV: "exit1", "public.ecr.aws": "missing"})
    snapshot = take_snapshot(Paths.from_env(), Settings())
    rows = {r.host: r for r in snapshot.registries}
    assert rows[OPS].state is State.OK and rows[OPS].source == "docker-config"
    assert rows[DEV].source == "docker-credential-exit1" and rows[DEV].state is State.UNKNOWN
    assert "failed (exit 1" in rows[DEV].detail
    assert "not found on PATH" in rows["public.ecr.aws"].detail
    assert {p.source for p in snapshot.errors} == {"docker-credential-exit1",
                                                  "docker-credential-missing"}


def test_a_hanging_helper_is_cut_off_at_its_timeout(home, path_with_helpers):
    home.docker_config({OPS: {"auth": docker_auth(200)}}, credHelpers={DEV: "hang"})
    started = time.monotonic()
    snapshot = take_snapshot(Paths.from_env(), Settings())
    assert time.monotonic() - started < 15
    rows = {r.host: r for r in snapshot.registries}
    assert "no answer within 5 s" in rows[DEV].detail
    assert rows[OPS].state is State.OK


def test_a_hanging_creds_store_keeps_the_placeholder_rows(home, path_with_helpers):
    home.docker_config({DEV: {}, "docker.io": {}}, credsStore="hang")
    home.podman_auth({OPS: {"auth": docker_auth(200)}})
    snapshot = take_snapshot(Paths.from_env(), Settings())
    rows = {r.host: r for r in snapshot.registries}
    assert "docker-credential-hang list: no answer" in rows[DEV].detail
    assert rows[OPS].source == "podman"


def test_helper_not_found_answer_means_no_login(home, monkeypatch):
    home.credential_helper("empty", 'case "$1" in list) echo "{}";;\n'
                           '  get) echo "credentials not found in native keychain"; exit 1;;\n'
                           "esac\n")
    monkeypatch.setenv("PATH", home.path_with_bin)
    assert CredentialHelper("empty").get(DEV) is None
    assert CredentialHelper("empty").list() == {}
    home.docker_config({}, credHelpers={DEV: "empty"})
    (row,) = take_snapshot(Paths.from_env(), Settings()).registries
    assert "holds no login" in row.detail


def test_a_helper_error_line_never_echoes_a_token(home, monkeypatch):
    secret = ecr_password(60)
    home.credential_helper("leaky", f'echo "cannot store {secret}"; exit 1\n')
    monkeypatch.setenv("PATH", home.path_with_bin)
    with pytest.raises(SourceError) as caught:
        CredentialHelper("leaky").get(DEV)
    assert secret[:40] not in str(caught.value)


def test_run_bounded_stops_a_flood_without_reading_it_all(tmp_path):
    started = time.monotonic()
    with pytest.raises(OutputTooLarge):
        run_bounded(["yes", "x" * 200], b"", timeout=10, max_output=1024 * 1024)
    assert time.monotonic() - started < 10


def test_run_bounded_kills_the_whole_process_group_on_timeout(tmp_path):
    marker = tmp_path / "grandchild-ran"
    script = f"(sleep 1; touch {marker}) &\nsleep 60\n"
    with pytest.raises(subprocess.TimeoutExpired):
        run_bounded(["sh", "-c", script], b"", timeout=0.3)
    time.sleep(1.5)
    assert not marker.exists()


def test_run_bounded_passes_stdin_and_returns_output():
    result = run_bounded(["sh", "-c", "read url; echo got:$url; echo oops >&2; exit 3"],
                         b"https://example\n", timeout=5)
    assert (result.returncode, result.stdout, result.stderr) == (3, b"got:https://example\n",
                                                                 b"oops\n")
