"""Stores that cannot hold an ECR login (tray_app.stores): pure decisions with a platform
parameter, the PATH look-up on real files, and the snapshot/status/menu/engine wiring."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.builders import docker_auth, host
from tray_app.model import State
from tray_app.renew.engine import renew
from tray_app.settings import Paths, Settings
from tray_app.snapshot import take_snapshot
from tray_app.sources.docker_config import DockerConfig, missing_helpers
from tray_app.stores import (
    HELPER_FAILING,
    HELPER_MISSING,
    STALE_CACHE,
    TOO_SMALL,
    StoreFacts,
    store_problem,
)

DEV = host("222222222222", "eu-central-1")
OPS = host("333333333333", "us-west-2")
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
CONFIG = "/home/me/.docker/config.json"


def facts(creds_store=None, cred_helpers=None, missing=(), failing=None, platform="linux",
          cache=None, ecr_login_installed=True) -> StoreFacts:
    return StoreFacts(config_path=CONFIG, creds_store=creds_store,
                      cred_helpers=cred_helpers or {}, missing=frozenset(missing),
                      failing=failing or {}, cache_path="/home/me/.ecr/cache.json",
                      cache_expiries=cache or {}, platform=platform,
                      ecr_login_installed=ecr_login_installed)


# -- the decisions ----------------------------------------------------------------------------
def test_creds_store_naming_a_helper_not_on_path():
    problem = store_problem(DEV, facts("desktop", missing={"desktop"}), NOW)
    assert problem.kind == HELPER_MISSING and problem.blocks_login
    assert problem.store == "docker-credential-desktop"
    assert "not on PATH (it comes with Docker Desktop)" in problem.reason
    assert f"`ecr-token-tray credhelper enable {DEV}`" in problem.fix
    assert f'remove "credsStore": "desktop" from {CONFIG}' in problem.fix
    assert "writes \"credsStore\": \"desktop\" back" not in problem.fix  # no Desktop here
    assert problem.line.startswith(f"{DEV}: ")


def test_a_per_host_helper_not_on_path_names_its_credhelpers_entry():
    problem = store_problem(DEV, facts(cred_helpers={DEV: "pass"}, missing={"pass"}), NOW)
    assert problem.kind == HELPER_MISSING
    assert f'"credHelpers": {{"{DEV}": "pass"}}' in problem.reason
    assert f'remove "{DEV}": "pass" from "credHelpers" in {CONFIG}' in problem.fix
    assert store_problem(OPS, facts(cred_helpers={DEV: "pass"}, missing={"pass"}), NOW) is None


def test_a_per_host_ecr_login_entry_wins_over_a_broken_creds_store():
    broken = facts("desktop", {DEV: "ecr-login"}, missing={"desktop"})
    assert store_problem(DEV, broken, NOW) is None
    assert store_problem(OPS, broken, NOW).kind == HELPER_MISSING


def test_docker_desktop_helper_that_fails_means_docker_desktop_is_not_running():
    refused = ('Post "http://ipc/registry/credstore-updated": dial unix'
               " /Users/me/Library/Containers/com.docker.docker/Data/backend.sock: connect:"
               " connection refused")
    problem = store_problem(DEV, facts("desktop", failing={"desktop": refused}), NOW)
    assert problem.kind == HELPER_FAILING and problem.blocks_login
    assert "Docker Desktop is not running" in problem.reason and "backend.sock" in problem.reason
    assert problem.fix.startswith("start Docker Desktop, or `ecr-token-tray credhelper enable")
    assert 'writes "credsStore": "desktop" back when it starts' in problem.fix


def test_another_failing_helper_says_how_to_see_why():
    problem = store_problem(DEV, facts("pass", failing={"pass": "exit 1"}), NOW)
    assert problem.kind == HELPER_FAILING
    assert problem.fix.startswith("run `docker-credential-pass list` to see why")


@pytest.mark.parametrize("helper", ["wincred", "desktop"])
def test_windows_credential_manager_cannot_hold_an_ecr_token(helper):
    problem = store_problem(DEV, facts(helper, platform="win32"), NOW)
    assert problem.kind == TOO_SMALL and problem.blocks_login
    assert "2560 bytes" in problem.reason and "The stub received bad data" in problem.reason
    assert f'"credHelpers": {{"{DEV}": "ecr-login"}}' in problem.fix
    assert f'remove "credsStore": "{helper}"' in problem.fix
    per_host = store_problem(DEV, facts(cred_helpers={DEV: helper}, platform="win32"), NOW)
    assert per_host.kind == TOO_SMALL and f'remove "{DEV}": "{helper}"' in per_host.fix


@pytest.mark.parametrize(("helper", "platform"), [("wincred", "linux"), ("desktop", "darwin"),
                                                  ("osxkeychain", "darwin"), ("pass", "linux")])
def test_working_stores_elsewhere_are_fine(helper, platform):
    assert store_problem(DEV, facts(helper, platform=platform), NOW) is None


def test_ecr_login_on_windows_is_fine_even_with_wincred_as_creds_store():
    assert store_problem(DEV, facts("wincred", {DEV: "ecr-login"}, platform="win32"), NOW) is None


def test_no_store_means_the_plain_file():
    assert store_problem(DEV, facts(), NOW) is None
    assert store_problem(DEV, None, NOW) is None


def test_without_ecr_login_installed_the_fix_installs_it_first():
    problem = store_problem(DEV, facts("wincred", platform="win32", ecr_login_installed=False),
                            NOW)
    assert "install amazon-ecr-credential-helper, then `ecr-token-tray credhelper" in problem.fix


def test_an_expired_ecr_login_cache_entry_is_a_notice_with_the_command_to_clear_it():
    stale = facts(cred_helpers={DEV: "ecr-login"}, cache={DEV: NOW - timedelta(hours=1)})
    problem = store_problem(DEV, stale, NOW)
    assert problem.kind == STALE_CACHE and not problem.blocks_login
    assert "expired 2026-12-04T11:00:00Z" in problem.reason and "(403)" in problem.reason
    assert problem.fix.startswith("`rm /home/me/.ecr/cache.json`")
    windows = stale._replace(platform="win32", cache_path=r"C:\Users\Me Too\.ecr\cache.json")
    assert store_problem(DEV, windows, NOW).fix.startswith(
        '`del "C:\\Users\\Me Too\\.ecr\\cache.json"`')
    fresh = stale._replace(cache_expiries={DEV: NOW + timedelta(hours=1)})
    assert store_problem(DEV, fresh, NOW) is None


def test_ecr_login_not_installed_and_our_wrapper_gone():
    plain = store_problem(DEV, facts(cred_helpers={DEV: "ecr-login"}, missing={"ecr-login"}), NOW)
    assert plain.kind == HELPER_MISSING and "sudo apt install amazon-ecr-credential-helper" \
        in plain.fix
    wrapper = store_problem(DEV, facts(cred_helpers={DEV: "ecr-login-dev"},
                                       missing={"ecr-login-dev"}), NOW)
    assert f"`ecr-token-tray credhelper enable {DEV}` writes it again" in wrapper.fix


# -- the PATH look-up, on real files ----------------------------------------------------------
def test_missing_helpers_looks_at_path_folders(tmp_path):
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "docker-credential-pass").write_text("#!/bin/sh\n")
    (folder / "docker-credential-pass").chmod(0o755)
    (folder / "docker-credential-secretservice").write_text("not executable")
    config = DockerConfig(tmp_path / "config.json", creds_store="pass",
                          cred_helpers={DEV: "secretservice", OPS: "desktop"})
    assert missing_helpers(config, {"PATH": str(folder)}, "linux") == {"secretservice",
                                                                       "desktop"}


def test_missing_helpers_on_windows_uses_pathext(tmp_path):
    folder = tmp_path / "Docker"
    folder.mkdir()
    (folder / "docker-credential-wincred.exe").write_bytes(b"MZ")
    config = DockerConfig(tmp_path / "config.json", creds_store="wincred",
                          cred_helpers={DEV: "ecr-login"})
    environ = {"PATH": f"{folder};C:\\nowhere", "PATHEXT": ".COM;.EXE;.BAT"}
    assert missing_helpers(config, environ, "win32") == {"ecr-login"}


# -- wiring: snapshot, status JSON and table, menu, engine --------------------------------------
def test_snapshot_for_windows_marks_docker_rows_of_wincred(home, monkeypatch):
    programs = home.root / "Program Files" / "Amazon"
    programs.mkdir(parents=True)
    (programs / "docker-credential-ecr-login.exe").write_bytes(b"MZ")
    monkeypatch.setenv("PATH", f"{programs};C:\\Windows")
    monkeypatch.setenv("PATHEXT", ".COM;.EXE")
    home.docker_config({DEV: {}}, credsStore="wincred", credHelpers={OPS: "ecr-login"})
    snapshot = take_snapshot(Paths.from_env(), Settings(), platform="win32")
    rows = {row.host: row for row in snapshot.registries}
    assert rows[DEV].store_problem.kind == TOO_SMALL
    assert rows[OPS].store_problem is None  # ecr-login fetches tokens: nothing stored
    assert snapshot.stores.platform == "win32"


def test_status_shows_the_problem_and_fix_on_its_row(home):
    from tray_app.render import render_table, snapshot_document

    home.docker_config({DEV: {}}, credsStore="wincred")
    snapshot = take_snapshot(Paths.from_env(), Settings(), platform="win32")
    table = render_table(snapshot)
    assert "Windows Credential Manager, which holds at most 2560 bytes" in table
    # no docker-credential-ecr-login.exe on this PATH: the fix installs it first
    assert (f"    fix: install amazon-ecr-credential-helper, then `ecr-token-tray credhelper"
            f" enable {DEV}`") in table
    document = json.loads(json.dumps(snapshot_document(snapshot)))
    assert document["registries"][0]["store_problem"]["kind"] == TOO_SMALL
    home.docker_config({DEV: {"auth": docker_auth(60)}})
    plain = snapshot_document(take_snapshot(Paths.from_env(), Settings(), platform="win32"))
    assert "store_problem" not in plain["registries"][0]  # the contract as before


def test_menu_has_the_notice_and_the_one_click_fix(home):
    from tray_app.ui.loop import LoopView
    from tray_app.ui.menu import AutostartView, menu_entries

    home.docker_config({DEV: {}}, credsStore="wincred")
    snapshot = take_snapshot(Paths.from_env(), Settings(), platform="win32")
    view = LoopView(snapshot=snapshot, busy=None, auto_renew=False, settings_problem=None,
                    ecr_login_installed=True)
    entries = {e.key: e for e in menu_entries(view, AutostartView())}
    notice = entries[f"store|{DEV}|docker-credential-wincred"]
    assert notice.text.strip() == "Windows Credential Manager cannot hold it"
    fix = notice.submenu[0]
    assert fix.action == ("ecr-login-on", DEV) and fix.enabled
    assert any("2560 bytes" in e.text for e in notice.submenu[1:])
    # dropping credsStore would cut Docker off from the other logins in Credential Manager
    assert not any(e.action and e.action[0] == "plain-file" for e in notice.submenu)


def test_engine_refuses_before_any_aws_call(home):
    """No profile, no credentials, no endpoint: the answer comes from the store check alone."""
    home.docker_config({DEV: {}}, credsStore="wincred")
    (row,) = take_snapshot(Paths.from_env(), Settings(), platform="win32").registries
    assert row.state == State.UNKNOWN
    report = renew([row])
    (outcome,) = report.outcomes
    assert outcome.result == "failed" and not report.ok
    assert "2560 bytes" in outcome.message and "`ecr-token-tray credhelper enable" \
        in outcome.message


def test_the_tray_tells_a_store_problem_once_a_day_with_the_fix(home, monkeypatch):
    """The real loop and snapshot; Docker Desktop's helper stands in failing as it does when
    Desktop is not running. A notification with the fix (and, with ecr-login installed, the
    fix as its button); not repeated on the next recompute, told again the next day."""
    from tests.builders import in_
    from tests.loop_support import FakeClock, RecordingNotifier
    from tray_app.ui.loop import TrayLoop

    home.credential_helper("desktop", "echo 'dial unix backend.sock: connection refused'\n"
                                      "exit 1\n")
    home.credential_helper("ecr-login", "exit 1\n")  # installed: the button is offered
    monkeypatch.setenv("PATH", home.path_with_bin)
    home.app_config("[renew]\nautomatic = false\n")
    home.docker_config({DEV: {}}, credsStore="desktop")
    notifier = RecordingNotifier()
    clock = FakeClock(in_(0))
    loop = TrayLoop(Paths.from_env(), notifier, clock=clock)
    loop.step()
    (title, body, urgent), = notifier.sent
    assert title == "222222222222 eu-central-1: its credential store cannot hold an ECR login"
    assert body.startswith("Fix: start Docker Desktop, or `ecr-token-tray credhelper enable")
    assert "Docker Desktop is not running" in body and not urgent
    button = notifier.extras[0]["button"]
    assert button.action == ("ecr-login-on", DEV)

    loop.nudge()
    loop.step()
    assert len(notifier.sent) == 1  # told once
    clock.advance(24 * 3600)
    loop.nudge()
    loop.step()
    assert len(notifier.sent) == 2  # a day later, while it lasts


def test_docker_login_errors_of_known_stores_are_explained():
    from tray_app.stores import explain_store_failure

    stub = explain_store_failure(DEV, "Error saving credentials: error storing credentials -"
                                 " err: exit status 1, out: `The stub received bad data.`",
                                 CONFIG)
    assert stub.kind == TOO_SMALL and "2560 bytes" in stub.reason
    assert stub.fix.startswith(f"`ecr-token-tray credhelper enable {DEV}`")
    desktop = explain_store_failure(DEV, 'out: `Post "http://ipc/registry/credstore-updated":'
                                    " dial unix backend.sock: connection refused`", CONFIG)
    assert desktop.kind == HELPER_FAILING and desktop.fix.startswith("start Docker Desktop")
    assert explain_store_failure(DEV, "denied: requested access is refused", CONFIG) is None
