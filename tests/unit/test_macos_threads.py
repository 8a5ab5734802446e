"""macOS held to AppKit's rules, on Linux: every AppKit call on the main thread.

No Mac runs here. tests/fake_darwin holds fakes of PyObjC's AppKit, Foundation, objc and
PyObjCTools (AppHelper.callAfter, MachSignals) that record the thread of every call; the
real pystray darwin backend (pystray/_darwin.py) runs on them, picked the way the app picks
any pystray backend. tests/fake_darwin/run_tray.py drives the real TrayApp in a child
interpreter (pystray chooses its backend once per process): start, an alert, a clock tick,
a refresh from the menu, a slow "Start at login", Quit. Notifications go to a stand-in
`osascript` on PATH; "Start at login" (an i3 session here) to a held stand-in `systemctl`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.builders import REPO_ROOT, docker_auth, host
from tests.stand_ins.osascript import calls as osascript_calls
from tests.stand_ins.osascript import fake_osascript
from tests.stand_ins.systemctl import fake_systemctl

pytestmark = pytest.mark.skipif(sys.platform != "linux",
                                reason="the fake AppKit stands in for macOS on Linux")

FAKE_DARWIN = REPO_ROOT / "tests" / "fake_darwin"
sys.path.insert(0, str(FAKE_DARWIN))  # the checker lives next to the fakes
from fake_cocoa import off_main_thread  # noqa: E402

sys.path.remove(str(FAKE_DARWIN))

EXPIRING = host("222222222222", "eu-central-1")
# what the AppKit side of every UI change is, in pystray's darwin backend
UI_CALLS = {"icon": "button.setImage_", "title": "button.setToolTip_",
            "menu": "statusItem.setMenu_", "show": "button.setHidden_",
            "stop": "NSApplication.stop_"}


def run_fake_mac_tray(home, tmp_path: Path, **env: str) -> tuple[dict, Path]:
    work = tmp_path / "work"
    fake_osascript(work)
    fake_systemctl(work / "systemd", "active", hold=work / "release")
    home.docker_config({EXPIRING: {"auth": docker_auth(10)}})
    home.app_config("[renew]\nautomatic = false\n")
    report = tmp_path / "report.json"
    result = subprocess.run(
        [sys.executable, str(FAKE_DARWIN / "run_tray.py"), str(report), str(work)],
        env=home.full_env(PATH=f"{work}:{work / 'systemd'}:{os.environ['PATH']}",
                          PYTHONPATH=str(REPO_ROOT), I3SOCK=str(tmp_path / "i3.sock"),
                          **env),
        cwd=home.root, capture_output=True, text=True, timeout=240, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    return json.loads(report.read_text()), work


@pytest.fixture(scope="module")
def mac_run(tmp_path_factory):
    from tests.builders import FakeHome

    root = tmp_path_factory.mktemp("mac")
    home = FakeHome.create(root / "home")
    report, work = run_fake_mac_tray(home, root)
    return report, work, home


def test_the_tray_runs_on_pystray_s_darwin_backend_through_every_step(mac_run):
    report, _, _ = mac_run
    assert report["backend_module"] == "pystray._darwin"
    assert "driver_error" not in report
    assert report["steps"] == ["started", "alert", "tick", "refresh", "start-at-login",
                               "quit-clicked"]
    assert report["exit"] == 0
    made = {call for call, _, _ in report["calls"]}
    assert set(UI_CALLS.values()) <= made  # each kind of UI change happened
    assert [c for c in report["calls"] if c[0] == "click delivered"]


def test_every_appkit_call_lands_on_the_main_thread(mac_run):
    report, _, _ = mac_run
    assert len(report["calls"]) > 50
    assert off_main_thread(report["calls"]) == []


def test_a_slow_menu_action_leaves_the_main_thread_free(mac_run):
    """"Start at login" waits for systemctl (held here); AppKit's thread must keep serving
    events meanwhile: the click runs on the action worker, not in the run loop."""
    report, _, _ = mac_run
    assert report["main_thread_answered_during_slow_action"] is True


def test_notifications_go_through_osascript_with_no_text_in_argv(mac_run):
    """plyer needs pyobjus (not installed); pystray's darwin notify would put the text in
    osascript's argv: the app runs `osascript -` with the script on stdin."""
    _, work, _ = mac_run
    calls = osascript_calls(work)
    assert calls and all(call["argv"] == ["-"] for call in calls)
    scripts = [call["stdin"] for call in calls]
    assert all(script.startswith("display notification ") for script in scripts)
    # osascript's banner shows one line of the body: it says what to do
    alert = next(s for s in scripts if "222222222222 eu-central-1" in s and "ends in" in s)
    assert alert.startswith('display notification "To renew: ')
    failure = next(s for s in scripts if "ECR refresh failed" in s)
    assert failure.startswith('display notification "To log in again: open the tray menu\n')


def test_the_checker_catches_ui_calls_moved_off_the_main_thread(home, tmp_path):
    """The same harness with a wrong dispatcher (callAfter running the call at once on the
    caller's thread, as the old `sys.platform == "darwin"` check did on a non-Mac): the
    scheduler's and the worker's UI updates now reach AppKit off the main thread."""
    report, _ = run_fake_mac_tray(home, tmp_path, FAKE_CALLAFTER="inline")
    offences = off_main_thread(report["calls"])
    assert offences
    assert {call for call, _, _ in offences} & {UI_CALLS["icon"], UI_CALLS["title"],
                                                 UI_CALLS["menu"]}
    assert {thread for _, thread, _ in offences} & {"ecr-token-tray-loop",
                                                    "ecr-token-tray-action"}
