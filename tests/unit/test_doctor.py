"""doctor's pieces in-process: rendering, config.json checks, SSO config checks."""

from __future__ import annotations

import argparse

from tests.builders import SSO_PROFILES_CONFIG, SSO_START_URL, docker_auth, host, in_
from tests.unit.test_layering import HEAVY, modules_after
from tray_app.commands import doctor
from tray_app.settings import Paths


def test_render_prints_levels_fixes_and_a_summary():
    text = doctor.render([
        doctor.Check("pass", "docker", "Docker version 28.2.2"),
        doctor.Check("warn", "config.json", "readable by others", "chmod 600 x"),
        doctor.Check("fail", "SSO config", "profile dev names a missing session", "add it"),
    ])
    assert text.splitlines() == [
        "PASS  docker       Docker version 28.2.2",
        "WARN  config.json  readable by others",
        "                   fix: chmod 600 x",
        "FAIL  SSO config   profile dev names a missing session",
        "                   fix: add it",
        "",
        "doctor: 1 pass, 1 warn, 1 fail",
    ]


def test_a_fix_with_lines_to_paste_keeps_them_on_their_own_lines():
    text = doctor.render([doctor.Check(
        "warn", "kube contexts", "default (https://127.0.0.1:6443) is not contacted",
        'add to /home/me/.config/ecr-token-tray/config.toml:\n[kubernetes]\n'
        'contexts = ["default"]')])
    assert text.splitlines()[:4] == [
        "WARN  kube contexts  default (https://127.0.0.1:6443) is not contacted",
        "                     fix: add to /home/me/.config/ecr-token-tray/config.toml:",
        "                          [kubernetes]",
        '                          contexts = ["default"]',
    ]


def test_config_json_mode_and_missing_helpers(home, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no helper at all on PATH
    path = home.docker_config({host(): {"auth": docker_auth(60)}},
                              credHelpers={host(): "ecr-login", "quay.io": "pass"})
    path.chmod(0o640)
    checks = doctor.check_docker_config(path)
    assert [(c.level, c.name) for c in checks] == [
        ("warn", "config.json"), ("fail", "credential helpers"), ("fail", "credential helpers")]
    assert checks[0].fix == f"chmod 600 {path}"
    assert "docker-credential-ecr-login" in checks[1].detail
    assert "docker-credential-pass for quay.io" in checks[2].detail


def test_a_missing_ecr_login_wrapper_says_how_to_write_it_again(home, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    path = home.docker_config({}, credHelpers={host(): "ecr-login-dev"})
    (check,) = [c for c in doctor.check_docker_config(path) if c.name == "credential helpers"]
    assert check.level == "fail"
    assert "docker-credential-ecr-login-dev for 111111111111" in check.detail
    assert check.fix.startswith("run `ecr-token-tray credhelper enable HOST` to write it again")


def test_sso_checks_report_sessions_from_local_files(home):
    home.aws_config(SSO_PROFILES_CONFIG + "\n[profile nameless]\nsso_session = corp\n")
    home.sso_token("corp", SSO_START_URL, in_(-10))  # expired, but the refresh token works
    checks = doctor.check_sso_config(Paths.from_env())
    details = [(c.level, c.detail) for c in checks]
    assert ("warn", f"{home.root}/.aws/config: profile nameless lacks sso_account_id or"
                    " sso_role_name: it signs in but gets no AWS credentials") in details
    assert ("pass", "SSO session corp (dev, dev-admin, nameless): token expired, renews"
                    " silently (refresh token valid)") in details
    legacy = next(c for c in checks if "legacy.awsapps.com" in c.detail)
    assert legacy.level == "warn" and legacy.fix == "run `ecr-token-tray login --profile ops`"


def test_exit_code_is_one_only_with_a_failure(home, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "PYSTRAY_BACKEND"):
        monkeypatch.delenv(name, raising=False)
    assert doctor.run(argparse.Namespace(json=False)) == 0
    home.aws_config("[profile dev]\nsso_session = gone\n")
    assert doctor.run(argparse.Namespace(json=False)) == 1
    assert "FAIL  SSO config" in capsys.readouterr().out


def test_importing_doctor_loads_no_heavy_library():
    loaded = modules_after("import tray_app.commands.doctor")
    assert {m.split(".")[0] for m in loaded} & set(HEAVY) == set()
