"""Soak: the tray's loop for 24 simulated hours of running, with suspends and files changing.

The real loop (``TrayLoop.run``) ticks every simulated second through its one timing seam;
a fake clock moves wall and monotonic time; events rewrite the files other tools own.
Checks: memory stays flat (tracemalloc), notifications are exactly the ones the rules call
for (listed by hand below), and no thread or child process is left behind.
"""

from __future__ import annotations

import gc
import json
import os
import threading
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests import figures
from tests.builders import DEV_REGISTRY, OPS_REGISTRY, SSO_DEV_CONFIG, host
from tests.loop_support import FakeClock, RecordingNotifier, ScriptedWait
from tray_app.settings import Paths
from tray_app.tokens import make_authorization_token, make_ecr_password
from tray_app.ui.loop import TrayLoop

LATER = host("444444444444", "eu-west-1")
HELPED = host("555555555555", "eu-west-1")
HOUR = 3600
MAX_GROWTH_BYTES = 256 * 1024

# Passwords carry a payload that must never show up in a notification.
PAYLOAD = "c29hay1zZWNyZXQtcGF5bG9hZC1uZXZlci1zaG93bg=="


def auth_at(expiry: datetime) -> dict:
    return {"auth": make_authorization_token(make_ecr_password(expiry, PAYLOAD))}


def child_pids() -> set[str]:
    found: set[str] = set()
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        try:
            found.update((task / "children").read_text().split())
        except OSError:
            continue
    return found


def test_24_hours_with_suspends_and_files_changing(home, monkeypatch):
    start = datetime.now(UTC).replace(microsecond=0)
    at = lambda hours: start + timedelta(hours=hours)  # noqa: E731  wall time from the start

    home.app_config("[renew]\nautomatic = false\n")  # renewals are the login tests' business
    home.aws_config(SSO_DEV_CONFIG)
    calls = home.root / "helper-calls"
    helper_auth = json.dumps({"ServerURL": HELPED, "Username": "AWS",
                              "Secret": make_ecr_password(at(48), PAYLOAD)})
    home.credential_helper("soak", f'echo "$1" >> "{calls}"\ncat >/dev/null\n'
                                   f"echo '{helper_auth}'\n")
    monkeypatch.setenv("PATH", home.path_with_bin)

    docker = {DEV_REGISTRY: auth_at(at(2)), LATER: auth_at(at(40))}
    home.docker_config(docker, credHelpers={HELPED: "soak"})
    home.podman_auth({OPS_REGISTRY: auth_at(at(6))})
    home.sso_token("corp", "https://corp.awsapps.com/start", at(8), refresh=False)

    clock = FakeClock(start)
    notifier = RecordingNotifier()
    wait = ScriptedWait(clock, timedelta(hours=24), lambda: loop.stop())
    loop = TrayLoop(Paths.from_env(), notifier, clock=clock, wait=wait)
    memory: dict[str, int] = {}

    def measure(name: str):
        def take() -> None:
            gc.collect()
            memory[name] = tracemalloc.get_traced_memory()[0]
        return take

    def rewrite_docker() -> None:
        home.docker_config(docker, credHelpers={HELPED: "soak"})

    def renew_dev() -> None:  # `docker login` in a terminal; wall is start+3h here
        docker[DEV_REGISTRY] = auth_at(at(3 + 12))
        rewrite_docker()

    def sso_sign_in_elsewhere() -> None:  # wall start+9h
        home.sso_token("corp", "https://corp.awsapps.com/start", at(21), refresh=False)

    def podman_login() -> None:  # wall start+10h
        home.podman_auth({OPS_REGISTRY: auth_at(at(22))})

    damaged_podman = home.podman_auth_path.read_bytes

    def damage_podman() -> None:  # another tool is halfway through writing it
        saved["podman"] = damaged_podman()
        home.podman_auth_path.write_bytes(saved["podman"][:25])

    def restore_podman() -> None:
        home.podman_auth_path.write_bytes(saved["podman"])

    saved: dict[str, bytes] = {}
    events = [
        (1 * HOUR + 30, measure("after the first hour")),
        (3 * HOUR, renew_dev),
        (4 * HOUR, lambda: clock.suspend(2 * HOUR)),  # lid closed 2 h: wall now 2 h ahead
        (7 * HOUR, sso_sign_in_elsewhere),
        (8 * HOUR, podman_login),
        (10 * HOUR, lambda: clock.suspend(HOUR // 2)),
        (12 * HOUR, damage_podman),
        (12 * HOUR + 600, restore_podman),
        (16 * HOUR, lambda: clock.suspend(3 * HOUR)),
        (24 * HOUR - 30, measure("at the end")),
    ]
    events += [(minute * 60, rewrite_docker) for minute in range(37, 24 * 60, 37)]  # touches
    for offset, action in events:
        wait.at(timedelta(seconds=offset), action)

    threads_before = set(threading.enumerate())
    children_before = child_pids()
    tracemalloc.start()
    try:
        loop.run()
    finally:
        tracemalloc.stop()

    # Exactly what the rules call for (default thresholds 60, 15 and 0 min). Wall time is
    # running time plus the suspends: +2 h at 4 h, +30 min at 10 h, +3 h at 16 h.
    expected_titles = [
        "ECR login 222222222222 eu-central-1 ends in 60 min",  # wall 1h
        "ECR login 222222222222 eu-central-1 ends in 15 min",  # 1h45
        "ECR login 222222222222 eu-central-1 expired",  # 2h; renewed at 3h -> expiry 15h
        "ECR login 333333333333 us-west-2 expired",  # resume 4h->6h: 60/15/0 folded into one
        "SSO session corp ends in 60 min",  # 7h
        "SSO session corp ends in 15 min",  # 7h45
        "SSO session corp expired",  # 8h; signed in elsewhere at 9h -> expiry 21h
        # podman login at 10h -> 333... expiry 22h; resume 12h->12h30: nothing due
        "ECR login 222222222222 eu-central-1 ends in 60 min",  # 14h
        "ECR login 222222222222 eu-central-1 ends in 15 min",  # 14h45 (file damaged 14h30-40)
        "ECR login 222222222222 eu-central-1 expired",  # 15h
        "2 ECR logins need renewing",  # resume 18h30->21h30: SSO expired + 333 at 60 min
        "ECR login 333333333333 us-west-2 ends in 15 min",  # 21h45
        "ECR login 333333333333 us-west-2 expired",  # 22h; nothing more up to 29h30
    ]
    titles = [title for title, _, _ in notifier.sent]
    assert titles == expected_titles
    coalesced = notifier.sent[10][1]
    assert "SSO session corp expired" in coalesced
    assert "333333333333 us-west-2 ends in 30 min" in coalesced
    assert loop.clock_jumps == 3

    growth = memory["at the end"] - memory["after the first hour"]
    figures.record("soak memory growth (KiB, 24 simulated h)", round(growth / 1024, 1))
    figures.record("soak notifications (rules: 13)", len(notifier.sent))
    figures.record("soak full recomputes", loop.recomputes)
    assert growth < MAX_GROWTH_BYTES

    assert set(threading.enumerate()) - threads_before == set()  # earlier tests' may end
    assert child_pids() - children_before == set()
    helper_runs = len(calls.read_text().split())
    assert helper_runs == loop.recomputes  # the helper runs once per full recompute only
    assert loop.recomputes < 24 * 60 + 200  # once a minute, plus changes and jumps

    secrets = [PAYLOAD, "sso-access-token-secret", "sso-refresh-token-secret"]
    for text in notifier.texts:
        assert not any(secret in text for secret in secrets)
