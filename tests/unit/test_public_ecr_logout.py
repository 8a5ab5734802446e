"""A stale public.ecr.aws login: pulls need none, an expired one makes them fail, so the app
advises logging out. Real files in a temp HOME; `status` as a user runs it; the tray's loop,
menu model, TrayActions and the one ActionRunner (tray_app/service/actions.py) as the tray
wires them; time through the loop's clock seam (tests/loop_support.py)."""

from __future__ import annotations

import json
import logging

import pytest

from tests.builders import DEV_REGISTRY, docker_auth, ecr_password, in_
from tests.loop_support import FakeClock, RecordingNotifier, run_three_minutes, wait_until_idle
from tray_app.service.actions import ActionRunner
from tray_app.settings import Paths
from tray_app.ui.actions import TrayActions
from tray_app.ui.loop import TrayLoop
from tray_app.ui.menu import AutostartView, menu_entries

PUBLIC = "public.ecr.aws"
ROW_ACTION = "    Log out: anonymous pulls work"


def auths(path) -> dict:
    return json.loads(path.read_text())["auths"]


@pytest.fixture
def stale_public(home):
    """An expired public.ecr.aws login in Docker's file, one ending in 30 min in Podman's,
    and an expired private login (renewed, never logged out). No automatic renewal."""
    home.app_config("[renew]\nautomatic = false\n")
    home.docker_config({PUBLIC: {"auth": docker_auth(-90)},
                        DEV_REGISTRY: {"auth": docker_auth(-90)}}, psFormat="table")
    home.podman_auth({PUBLIC: {"auth": docker_auth(30)}, "quay.io": {"auth": "dTpw"}})
    return home


def test_status_says_to_log_out_in_the_row_detail(stale_public):
    home = stale_public
    home.podman_auth({PUBLIC: {"auth": docker_auth(30)}, "ecr-public.aws.com":
                      {"auth": docker_auth(600)}})
    result = home.run_cli("status")
    lines = result.stdout.splitlines()
    expired = lines.index(next(line for line in lines if line.startswith(PUBLIC)
                               and "expired" in line))
    assert lines[expired + 1] == ("    pulls fail with it; anonymous pulls work:"
                                  f" `ecr-token-tray logout {PUBLIC}`")
    rows = {(r["host"], r["source"]): r for r in home.status_json()["registries"]}
    assert rows[(PUBLIC, "podman")]["detail"] == (
        f"pulls fail once it expires; anonymous pulls work: `ecr-token-tray logout {PUBLIC}`")
    assert rows[("ecr-public.aws.com", "podman")]["detail"] == ""  # 10 h left: nothing to say
    assert "logout" not in rows[(DEV_REGISTRY, "docker-config")]["detail"]  # private: renew


def test_the_alert_suggests_logging_out_and_its_button_does(stale_public):
    home = stale_public
    home.docker_config({PUBLIC: {"auth": docker_auth(-90)}})
    home.podman_auth({})
    notifier = RecordingNotifier()
    loop = TrayLoop(Paths.from_env(), notifier, clock=FakeClock(in_(0)))
    loop.step()
    (title, body, _), = notifier.sent
    assert title == f"ECR login {PUBLIC} expired"
    assert body.startswith(f"Log out: anonymous pulls work (`ecr-token-tray logout {PUBLIC}`)")
    assert "renew" not in body.lower()
    button = notifier.extras[0]["button"]
    assert (button.label, button.action) == ("Log out", ("logout-public",))
    # the button's action, as a notification server hands it back to the tray
    actions = TrayActions(loop, Paths.from_env(), on_quit=lambda: None)
    runner = ActionRunner(actions.dispatch)
    runner.submit(button.action)
    wait_until_idle(runner, loop)
    assert PUBLIC not in auths(home.docker_config_path)
    assert notifier.sent[-1][0] == "Logged out of public.ecr.aws"
    runner.stop()


def test_the_menu_row_logs_out_through_the_action_runner(stale_public):
    home = stale_public
    docker_before = json.loads(home.docker_config_path.read_text())
    mode = home.podman_auth_path.stat().st_mode
    notifier = RecordingNotifier()
    loop = TrayLoop(Paths.from_env(), notifier, clock=FakeClock(in_(0)))
    actions = TrayActions(loop, Paths.from_env(), on_quit=lambda: None)
    runner = ActionRunner(actions.dispatch, after=lambda: None)
    loop.step()
    entries = menu_entries(loop.view(), AutostartView())
    texts = [e.text for e in entries]
    public_rows = [i for i, text in enumerate(texts) if text.startswith(PUBLIC)]
    assert len(public_rows) == 2  # Docker's (expired) and Podman's (30 min left)
    for index in public_rows:
        assert entries[index + 1].text == ROW_ACTION
    dev = texts.index(next(t for t in texts if t.startswith("222222222222")))
    assert texts[dev + 1] != ROW_ACTION  # a private login is renewed, never logged out

    docker_row = entries[public_rows[0] + 1]  # Docker's row comes first
    assert docker_row.action == ("logout-public", PUBLIC, "docker-config")
    runner.submit(docker_row.action)
    wait_until_idle(runner, loop)

    docker_before["auths"].pop(PUBLIC)
    assert json.loads(home.docker_config_path.read_text()) == docker_before
    assert PUBLIC in auths(home.podman_auth_path)  # only the row clicked
    assert notifier.sent[-1][0] == "Logged out of public.ecr.aws"
    assert "Anonymous pulls work again." in notifier.sent[-1][1]
    loop.step()
    texts = [e.text for e in menu_entries(loop.view(), AutostartView())]
    assert f"{PUBLIC} - expired 1h 30m ago" not in " ".join(texts)

    podman_row = next(e for e in menu_entries(loop.view(), AutostartView())
                      if e.text == ROW_ACTION)
    runner.submit(podman_row.action)
    wait_until_idle(runner, loop)
    assert set(auths(home.podman_auth_path)) == {"quay.io"}
    assert home.podman_auth_path.stat().st_mode == mode
    runner.stop()


def test_auto_logout_logs_out_once_and_says_so(stale_public, caplog):
    caplog.set_level(logging.INFO, logger="tray_app")
    home = stale_public
    home.app_config("[renew]\nautomatic = false\n\n[public_ecr]\nauto_logout = true\n")
    notifier = RecordingNotifier()
    clock = FakeClock(in_(0))
    loop = TrayLoop(Paths.from_env(), notifier, clock=clock)
    run_three_minutes(loop, clock)

    assert PUBLIC not in auths(home.docker_config_path)
    assert set(auths(home.podman_auth_path)) == {"quay.io"}  # 30 min left: within warning
    assert DEV_REGISTRY in auths(home.docker_config_path)
    titles = [title for title, _, _ in notifier.sent]
    assert titles.count("Logged out of public.ecr.aws by itself") == 1
    assert not any(title.startswith(f"ECR login {PUBLIC}") for title in titles)  # no alert
    assert "ECR login 222222222222 eu-central-1 expired" in titles  # the private one alerts
    (logged,) = [r.getMessage() for r in caplog.records
                 if "automatic public.ecr.aws logout" in r.getMessage()]
    assert f"{PUBLIC}: logged out of docker" in logged and "podman" in logged


def test_auto_logout_is_opt_in(stale_public):
    home = stale_public
    notifier = RecordingNotifier()
    loop = TrayLoop(Paths.from_env(), notifier, clock=FakeClock(in_(0)))
    loop.step()
    loop.join_worker(timeout=60)
    assert PUBLIC in auths(home.docker_config_path)
    assert any(title.startswith("2 ECR logins") or PUBLIC in body
               for title, body, _ in notifier.sent)


def test_a_failed_auto_logout_changes_nothing_and_is_told(home, monkeypatch):
    """Docker's store holds the stale login but refuses to erase it: nothing changes."""
    home.app_config("[renew]\nautomatic = false\n\n[public_ecr]\nauto_logout = true\n")
    secret = ecr_password(-90)
    home.credential_helper("stuck", f"""case "$1" in
  list) echo '{{"{PUBLIC}": "AWS"}}' ;;
  get) echo '{{"ServerURL": "{PUBLIC}", "Username": "AWS", "Secret": "{secret}"}}' ;;
  *) echo "erase refused by the store" >&2; exit 1 ;;
esac
""")
    monkeypatch.setenv("PATH", home.path_with_bin)
    home.docker_config({PUBLIC: {}}, credsStore="stuck")
    before = home.docker_config_path.read_bytes()
    notifier = RecordingNotifier()
    loop = TrayLoop(Paths.from_env(), notifier, clock=FakeClock(in_(0)))
    loop.step()
    loop.join_worker(timeout=60)
    assert home.docker_config_path.read_bytes() == before
    (title, body, _), = [n for n in notifier.sent if "public.ecr.aws" in n[0]]
    assert title == "public.ecr.aws: not logged out"
    assert "docker-credential-stuck" in body and secret not in body


def test_a_broken_podman_file_does_not_stop_dockers_logout(stale_public):
    """Bad input in one tool's file is told once; the logout in another tool still works."""
    home = stale_public
    home.app_config("[renew]\nautomatic = false\n\n[public_ecr]\nauto_logout = true\n")
    home.podman_auth_path.unlink()
    home.podman_auth_path.mkdir()  # a directory where Podman's file should be
    notifier = RecordingNotifier()
    loop = TrayLoop(Paths.from_env(), notifier, clock=FakeClock(in_(0)))
    loop.step()
    loop.join_worker(timeout=60)
    assert PUBLIC not in auths(home.docker_config_path)
    assert DEV_REGISTRY in auths(home.docker_config_path)
    assert home.podman_auth_path.is_dir()
