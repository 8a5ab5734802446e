"""The scheduler behind tray and watch, driven by a fake clock through its one timing seam."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from datetime import timedelta

import pytest

from tests.builders import DEV_REGISTRY, SSO_DEV_CONFIG, docker_auth, host, in_
from tests.loop_support import FakeClock, RecordingNotifier, ScriptedWait
from tray_app.settings import Paths
from tray_app.ui.instance import SingleInstance, lock_path
from tray_app.ui.loop import TrayLoop

HELPED = host("555555555555", "eu-west-1")


def counting_helper(home) -> object:
    """A credential helper that answers properly and counts how often it is run."""
    calls = home.root / "helper-calls"
    auth = json.dumps({"ServerURL": HELPED, "Username": "AWS",
                       "Secret": docker_auth(600).split(":", 1)[0]})
    home.credential_helper("counting", (
        f'echo "$1" >> "{calls}"\n'
        f'case "$1" in list) echo \'{{"{HELPED}": "AWS"}}\';;\n'
        f"get) cat >/dev/null; echo '{auth}';;\nesac\n"))
    return calls


@pytest.fixture
def quiet_home(home, monkeypatch):
    home.app_config("[renew]\nautomatic = false\n")
    monkeypatch.setenv("PATH", home.path_with_bin)
    return home


def drive(loop: TrayLoop, clock: FakeClock, seconds: float, events=()) -> ScriptedWait:
    wait = ScriptedWait(clock, timedelta(seconds=seconds), loop.stop)
    for offset, action in events:
        wait.at(timedelta(seconds=offset), action)
    loop._wait = wait
    loop.run()
    return wait


def test_idle_ticks_only_stat_files_and_recompute_once_a_minute(quiet_home):
    calls = counting_helper(quiet_home)
    quiet_home.docker_config({DEV_REGISTRY: {"auth": docker_auth(300)}},
                             credHelpers={HELPED: "counting"})
    clock = FakeClock(in_(0))
    loop = TrayLoop(Paths.from_env(), RecordingNotifier(), clock=clock)
    wait = drive(loop, clock, 179.5)
    assert wait.waits >= 179  # one tick per simulated second
    assert loop.recomputes == 3  # at 0, 60 and 120 s
    helper_runs = calls.read_text().split()
    assert helper_runs == ["get"] * 3  # once per full recompute, never on the other ticks


def test_a_login_made_elsewhere_is_seen_at_the_next_tick(quiet_home):
    quiet_home.docker_config({DEV_REGISTRY: {"auth": docker_auth(30)}})
    clock = FakeClock(in_(0))
    seen = []
    loop = TrayLoop(Paths.from_env(), RecordingNotifier(), clock=clock,
                    on_view=lambda view: seen.append((clock.now, view.snapshot)))
    renewed_at = {}

    def docker_login_elsewhere():
        quiet_home.docker_config({DEV_REGISTRY: {"auth": docker_auth(720)}})
        renewed_at["t"] = clock.now

    drive(loop, clock, 30, events=[(10.5, docker_login_elsewhere)])
    first_fresh = next(t for t, snap in seen if snap.registries[0].seconds_left > 700 * 60)
    assert first_fresh - renewed_at["t"] <= timedelta(seconds=2)


def test_a_suspend_recomputes_at_once_and_sends_one_coalesced_alert(quiet_home):
    quiet_home.docker_config({DEV_REGISTRY: {"auth": docker_auth(70)},
                              host("333333333333", "us-west-2"): {"auth": docker_auth(75)}})
    clock = FakeClock(in_(0))
    notifier = RecordingNotifier()
    loop = TrayLoop(Paths.from_env(), notifier, clock=clock)
    drive(loop, clock, 20, events=[(10, lambda: clock.suspend(3 * 3600))])
    assert loop.clock_jumps == 1
    assert loop.recomputes == 2  # the start, then right after resume (not a minute later)
    assert len(notifier.sent) == 1
    title, body, _ = notifier.sent[0]
    assert title == "2 ECR logins expired"
    assert "60 min" not in body and "15 min" not in body


def test_a_clock_set_back_also_counts_as_a_jump(quiet_home):
    quiet_home.docker_config({DEV_REGISTRY: {"auth": docker_auth(300)}})
    clock = FakeClock(in_(0))
    loop = TrayLoop(Paths.from_env(), RecordingNotifier(), clock=clock)
    drive(loop, clock, 10, events=[(5, lambda: clock.suspend(-600))])
    assert loop.clock_jumps == 1 and loop.recomputes == 2


def test_the_loop_leaves_no_threads_behind(quiet_home):
    quiet_home.docker_config({DEV_REGISTRY: {"auth": docker_auth(300)}})
    before = set(threading.enumerate())
    clock = FakeClock(in_(0))
    loop = TrayLoop(Paths.from_env(), RecordingNotifier(), clock=clock)
    thread = threading.Thread(target=drive, args=(loop, clock, 120))
    thread.start()
    thread.join(60)
    assert not thread.is_alive()
    assert set(threading.enumerate()) - before == set()


def test_real_event_wait_wakes_early_on_nudge_and_stops(quiet_home):
    quiet_home.docker_config({DEV_REGISTRY: {"auth": docker_auth(300)}})
    loop = TrayLoop(Paths.from_env(), RecordingNotifier(), poll_seconds=3600)
    runner = threading.Thread(target=loop.run)
    runner.start()
    loop.nudge()
    loop.stop()
    runner.join(10)
    assert not runner.is_alive()


# -- single instance, no desktop, watch ------------------------------------------------------

def test_single_instance_lock_and_stale_lock_recovery(home, tmp_path):
    path = lock_path(Paths.from_env())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("999999\n")  # left by a crashed tray: nobody holds the OS lock
    first = SingleInstance(path)
    assert first.acquire()
    assert first.holder_pid() == os.getpid()
    assert not SingleInstance(path).acquire()
    second_start = home.run_cli("tray", DISPLAY=":0", timeout=60)
    assert second_start.returncode == 0
    assert second_start.stdout.strip() == (
        f"ecr-token-tray: the tray is already running (pid {os.getpid()})")
    first.release()
    assert SingleInstance(path).acquire()


@pytest.mark.parametrize("command", [[], ["tray"]])
def test_without_a_desktop_one_line_points_to_status_and_watch(home, command):
    result = home.run_cli(*command, DISPLAY="", WAYLAND_DISPLAY="")
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert "no desktop session" in lines[0]
    assert "ecr-token-tray status" in lines[0] and "ecr-token-tray watch" in lines[0]


def test_a_display_that_does_not_answer_gives_one_line_not_an_xlib_traceback(home):
    result = home.run_cli("tray", DISPLAY=":4097", WAYLAND_DISPLAY="", timeout=60)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and "Xlib" not in result.stderr.split("(")[0]
    assert len(result.stderr.strip().splitlines()) == 1
    assert "cannot open a tray on display :4097" in result.stderr
    # The log says why the tray stopped (a windowed bundle has no terminal to print to).
    log = (home.state_dir / "log" / "ecr-token-tray.log").read_text()
    assert "ERROR tray_app.commands.tray: the tray stopped: cannot open a tray on display" \
        " :4097" in log


def test_watch_once_prints_the_table_and_the_alert(home):
    from tests.stand_ins.registry import EcrLab

    EcrLab.credentials_file(home.root)  # the profile has keys: a login would work
    home.app_config("[renew]\nautomatic = false\n")
    home.docker_config({DEV_REGISTRY: {"auth": docker_auth(10.5)}})
    result = home.run_cli("watch", "--once", "--no-notify")
    assert result.returncode == 0, result.stderr
    assert "!! ECR login 222222222222 eu-central-1 ends in 10 min" in result.stdout
    assert "run `ecr-token-tray login`" in result.stdout
    assert "222222222222 eu-central-1  docker-config  10m" in result.stdout
    assert "automatic renewal off" in result.stdout
    again = home.run_cli("watch", "--once", "--no-notify")
    assert "!!" not in again.stdout  # remembered across runs


def test_watch_exits_cleanly_on_ctrl_c(home):
    home.app_config("[renew]\nautomatic = false\n")
    home.docker_config({DEV_REGISTRY: {"auth": docker_auth(300)}})
    child = subprocess.Popen([sys.executable, "-m", "tray_app", "watch", "--no-notify"],
                             env=home.full_env(), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        first_line = child.stdout.readline()
        assert first_line.startswith("REGISTRY")
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 0
    assert "Traceback" not in err and err.strip() == ""


# -- automatic renewal -------------------------------------------------------------------------

def test_when_only_a_browser_would_help_it_notifies_and_opens_nothing(home, fake_aws):
    home.aws_config(SSO_DEV_CONFIG)
    home.sso_token("corp", "https://corp.awsapps.com/start", in_(-30), refresh=False)
    home.docker_config({DEV_REGISTRY: {"auth": docker_auth(40.5)}})
    notifier = RecordingNotifier()
    loop = TrayLoop(Paths.from_env(), notifier, clock=FakeClock(in_(0)))
    assert loop.auto_renew
    loop.step()
    assert loop.busy is None  # no renewal started
    assert fake_aws.sso_logins == []  # and no browser sign-in
    assert len(notifier.sent) == 1
    title, body, _ = notifier.sent[0]
    assert title == "2 ECR logins need renewing"
    assert "222222222222 eu-central-1 ends in 40 min" in body
    assert "SSO session corp expired" in body


def test_a_failed_automatic_renewal_is_notified_with_its_reason_then_alerts_follow(
        home, monkeypatch):
    from tests.stand_ins.ecr_endpoint import unreachable_url

    monkeypatch.setenv("AWS_ENDPOINT_URL_ECR", unreachable_url())
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLELOOPTEST1")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "loopTestSecretKeyExample000000000000000000")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    home.docker_config({DEV_REGISTRY: {"auth": docker_auth(40.5)}})
    notifier = RecordingNotifier()
    loop = TrayLoop(Paths.from_env(), notifier, clock=FakeClock(in_(0)))
    loop.step()
    assert loop.busy == "Refreshing 222222222222 eu-central-1..."  # the engine's steps go
    # to view().progress; the busy title stays
    assert notifier.sent == []  # quiet while it renews
    loop.join_worker(timeout=120)
    loop.step()  # the worker nudged: recompute now
    titles = [title for title, _, _ in notifier.sent]
    assert titles == ["ECR refresh failed", "ECR login 222222222222 eu-central-1 ends in 40 min"]
    assert "222222222222 eu-central-1" in notifier.sent[0][1]
    assert "loopTestSecretKeyExample" not in "".join(notifier.texts)
    loop.step()
    assert loop.busy is None  # one silent attempt per login and stage, not a retry storm



def test_watch_on_a_terminal_redraws_and_keeps_alerts_under_the_table(home):
    import pty

    home.app_config("[renew]\nautomatic = false\n")
    home.docker_config({DEV_REGISTRY: {"auth": docker_auth(10.5)}})
    controller, terminal = pty.openpty()
    child = subprocess.Popen([sys.executable, "-m", "tray_app", "watch", "--no-notify"],
                             env=home.full_env(), stdin=terminal, stdout=terminal,
                             stderr=subprocess.PIPE, text=True)
    os.close(terminal)
    received: list[bytes] = []
    footer_seen = threading.Event()

    def read_terminal() -> None:  # keep draining: the child must never block on its output
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO once the child closed the terminal
                return
            if not chunk:
                return
            received.append(chunk)
            if b"Ctrl-C to quit" in b"".join(received):
                footer_seen.set()

    reader = threading.Thread(target=read_terminal, daemon=True)
    reader.start()
    try:
        assert footer_seen.wait(60), "watch drew no screen"
        child.send_signal(signal.SIGINT)
        assert child.wait(60) == 0
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        reader.join(10)
        os.close(controller)
    screen = b"".join(received)
    text = screen.decode()
    assert text.startswith("\x1b[H\x1b[2J")  # the screen is redrawn, not scrolled
    table_end = text.index("222222222222 eu-central-1  docker-config")
    alert = text.index("ECR login 222222222222 eu-central-1 ends in 10 min")
    assert table_end < alert < text.index("Ctrl-C to quit")
