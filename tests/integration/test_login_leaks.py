"""No secret of a login run shows up in child argv, output, logs or the state file."""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path

import pytest

from tests import figures
from tests.builders import (
    SSO_ACCESS_TOKEN,
    SSO_PROFILES_CONFIG,
    SSO_REFRESH_TOKEN,
    SSO_START_URL,
    docker_auth,
    host,
    in_,
)
from tests.integration.leak_support import recording_wrappers, scannable, secret_hits
from tests.stand_ins.registry import EcrLab

pytestmark = [pytest.mark.docker,
              pytest.mark.skipif(shutil.which("docker") is None or shutil.which("podman") is None,
                                 reason="needs the docker and podman CLIs")]


def test_a_debug_login_run_leaks_no_secret(home, ecr_lab, sso_service, fake_aws, tmp_path):
    home.aws_config(SSO_PROFILES_CONFIG)
    EcrLab.credentials_file(home.root, ("default",))
    home.sso_token("corp", SSO_START_URL, in_(-10), refresh=True)  # silent refresh path
    home.env.update(sso_service.env())
    argv_log = tmp_path / "argv.jsonl"
    wrappers = recording_wrappers(tmp_path / "wrappers", argv_log, "docker", "podman")
    home.env["PATH"] = f"{wrappers}:{fake_aws.path_with_fake_first()}"
    dev = host("222222222222", "eu-central-1")
    static = [host("555555555555", "us-west-2"), host("555555555555", "ap-south-1")]
    home.app_config("".join(f'[registries."{h}"]\nprofile = "default"\n' for h in static))
    home.docker_config({h: {"auth": docker_auth(-60)} for h in [dev, *static]})
    home.podman_auth({dev: {"auth": docker_auth(-60)}})
    ecr_lab.endpoint.faults.deny_regions = frozenset({"ap-south-1"})  # an error path too

    result = home.run_cli("--debug", "login", "--all")

    assert result.returncode == 1  # ap-south-1 denied; the rest refreshed
    assert result.stdout.count("refreshed ") == 3, result.stdout
    calls = [json.loads(line) for line in argv_log.read_text().splitlines()]
    assert {tuple(argv[:3]) for argv in calls} == {("docker", "login", "--username"),
                                                   ("podman", "login", "--authfile")}
    assert all("--password-stdin" in argv for argv in calls)

    log_dir = Path(home.env["XDG_STATE_HOME"]) / "ecr-token-tray" / "log"
    logs = sorted(log_dir.glob("*.log*"))
    assert logs and "DEBUG" in logs[0].read_text()  # the debug log was written
    assert stat.S_IMODE(logs[0].stat().st_mode) == 0o600
    haystacks = {
        "stdout": result.stdout, "stderr": result.stderr, "child argv": argv_log.read_text(),
        "state file": (home.state_dir / "logins.json").read_text(),
        "aws argv": fake_aws.argv_log.read_text() if fake_aws.argv_log.exists() else "",
        **{f"log {p.name}": p.read_text() for p in logs},
    }
    secrets = scannable(ecr_lab.secrets(), sso_service.issued_secrets,
                        [SSO_ACCESS_TOKEN, SSO_REFRESH_TOKEN])
    assert len(ecr_lab.issuer.passwords) == 2  # the two regions that answered
    assert sso_service.calls["CreateToken:refresh_token"] == 1  # silent SSO refresh ran
    assert sso_service.calls["GetRoleCredentials"] >= 1
    hits = secret_hits(haystacks, secrets)
    figures.record("login secrets scanned", len(secrets))
    figures.record("login secrets found", len(hits))
    assert hits == []
