"""The engine in process, on the direct-write path (no docker CLI on PATH): groups, parallel
runs, outcomes, the state file and the overall timeout. Local loopback stand-ins only."""

from __future__ import annotations

import json
import threading

import pytest

from tests.builders import docker_auth, host
from tray_app.renew.engine import LoginOptions, renew
from tray_app.settings import Paths, Settings
from tray_app.snapshot import take_snapshot
from tray_app.statefile import read_recorded_logins


@pytest.fixture
def no_docker(tmp_path, monkeypatch):
    """PATH without docker/podman: the engine writes config.json itself."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def rows():
    return take_snapshot(Paths.from_env(), Settings()).registries


def test_twelve_registries_three_regions_three_calls(home, ecr_lab, no_docker):
    regions = ["eu-central-1", "us-west-2", "ap-south-1"]
    hosts = [host(f"{n:012d}", region) for n in range(1, 5) for region in regions]
    home.docker_config({h: {"auth": docker_auth(-60)} for h in hosts})
    progress: list[str] = []

    report = renew(rows(), LoginOptions(profile="dev"), progress=progress.append)

    assert report.ok, [o.message for o in report.outcomes]
    assert len(report.outcomes) == 12
    assert ecr_lab.endpoint.calls_by_region() == dict.fromkeys(regions, 1)
    assert len([p for p in progress if p.startswith("getting an ECR token")]) == 3
    auths = json.loads(home.docker_config_path.read_text())["auths"]
    recorded = read_recorded_logins(Paths.from_env().state_dir)
    for outcome in report.outcomes:
        assert outcome.result == "refreshed" and outcome.verified
        assert "profile dev" in outcome.message and "written to" in outcome.message
        assert recorded[outcome.host].expires_at == outcome.expires_at
        assert ecr_lab.issuer.accepts("AWS", _password(auths[outcome.host]["auth"]),
                                      outcome.host)


def test_one_failing_group_does_not_stop_the_others(home, ecr_lab, no_docker):
    good, bad = host("111111111111", "eu-central-1"), host("111111111111", "us-west-2")
    home.docker_config({good: {"auth": docker_auth(-60)}, bad: {"auth": docker_auth(-60)}})
    ecr_lab.endpoint.faults.deny_regions = frozenset({"us-west-2"})
    report = renew(rows(), LoginOptions(profile="dev"))
    results = {o.host: o for o in report.outcomes}
    assert not report.ok
    assert results[good].result == "refreshed"
    assert results[bad].result == "failed" and results[bad].expires_at is None
    assert results[bad].message == (
        "111111111111 us-west-2 (docker-config, profile dev): failed - profile dev may not"
        " call ecr:GetAuthorizationToken in us-west-2 - ask for that permission, or pick"
        " another profile with --profile or [registries] in config.toml")
    assert bad not in read_recorded_logins(Paths.from_env().state_dir)


def test_overall_timeout_reports_unfinished_groups(home, ecr_lab, no_docker, monkeypatch):
    monkeypatch.setenv("ECR_TOKEN_TRAY_AWS_TIMEOUT", "3")
    registry_host = host("111111111111", "eu-central-1")
    home.docker_config({registry_host: {"auth": docker_auth(-60)}})
    before = home.docker_config_path.read_bytes()
    ecr_lab.endpoint.faults.slow = 2.0
    report = renew(rows(), LoginOptions(profile="dev", timeout=0.5))
    (outcome,) = report.outcomes
    assert outcome.result == "failed" and "overall timeout (0.5 s) passed first" in outcome.message
    assert home.docker_config_path.read_bytes() == before
    for worker in threading.enumerate():  # the abandoned call ends on its own read timeout
        if worker.name.startswith("renew"):
            worker.join(30)


def test_empty_request_is_ok(home, ecr_lab):
    assert renew([]).ok and renew([]).outcomes == ()


def _password(auth: str) -> str:
    from tray_app.tokens import decode_docker_auth

    return decode_docker_auth(auth).password



def test_automatic_renewal_skips_what_needs_a_browser(home, ecr_lab, no_docker, fake_aws):
    from tests.builders import SSO_PROFILES_CONFIG, SSO_START_URL, in_

    home.aws_config(SSO_PROFILES_CONFIG)
    (home.root / ".aws" / "credentials").unlink()
    home.sso_token("corp", SSO_START_URL, in_(-30), refresh=False)
    registry_host = host("222222222222", "eu-central-1")
    home.docker_config({registry_host: {"auth": docker_auth(-60)}})
    before = home.docker_config_path.read_bytes()

    report = renew(rows(), LoginOptions(allow_browser=False))

    (outcome,) = report.outcomes
    assert not report.ok
    assert outcome.result == "skipped" and outcome.profile == "dev"
    assert outcome.message.startswith("222222222222 eu-central-1 (docker-config, profile dev):"
                                      " skipped - ")
    assert fake_aws.sso_logins == []  # no browser was opened
    assert ecr_lab.endpoint.token_calls() == 0
    assert home.docker_config_path.read_bytes() == before
