"""The tray on a real (virtual) desktop, started as a user starts it.

Xvfb + trayer (system tray) + dunst on a private D-Bus (tests/desktop.py); the app runs
`python -m tray_app` with the gtk backend in a realistic HOME: one login 10 min from
expiry, one expired two days ago, one with 9 h left. ECR's API and the registry are the
local stand-ins of the login tests (``ecr_lab``); docker is the real CLI.

Screenshots are kept in tests/artifacts/desktop/ (gitignored).
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests import figures
from tests.builders import REPO_ROOT, docker_auth, host
from tests.desktop import missing_tools, running_desktop, wait_until
from tray_app.tokens import decode_docker_auth

pytestmark = [
    pytest.mark.desktop,
    pytest.mark.skipif(bool(missing_tools()),
                       reason=f"needs a headless desktop: missing {', '.join(missing_tools())}"),
    pytest.mark.skipif(shutil.which("docker") is None, reason="needs the docker CLI"),
]

SOON = host("222222222222", "eu-central-1")
EXPIRED = host("333333333333", "us-west-2")
LATER = host("444444444444", "eu-west-1")
ARTIFACTS = REPO_ROOT / "tests" / "artifacts" / "desktop"
FIRST_ROW_OFFSET, ROW_HEIGHT = 16, 25  # GTK3 default theme: menu rows before a separator


def _gtk_available() -> bool:
    probe = subprocess.run([sys.executable, "-c", "import gi; gi.require_version('Gtk', '3.0')"],
                           capture_output=True, timeout=30, check=False)
    return probe.returncode == 0


def password_in(home, registry_host: str) -> str:
    document = json.loads(home.docker_config_path.read_text())
    return decode_docker_auth(document["auths"][registry_host]["auth"]).password


def icon_line(desktop) -> str | None:
    """The docked icon: a child of trayer's panel named by our tooltip ("ECR: ...")."""
    tree = desktop.tree()
    panel = tree.find('"panel": ("panel" "trayer")')
    if panel < 0:
        return None
    return next((line for line in tree[panel:].splitlines() if '"ECR:' in line), None)


def geometry(line: str) -> tuple[int, int, int, int]:
    width, height, x, y = map(int, re.search(
        r"(\d+)x(\d+)\+-?\d+\+-?\d+\s+\+(-?\d+)\+(-?\d+)", line).groups())
    return x, y, width, height


def open_menu(desktop) -> tuple[int, int, int, int]:
    """Right-click the icon; return the geometry of the menu window that appears."""
    x, y, width, height = geometry(icon_line(desktop))
    before = desktop.top_windows()
    desktop.run("xdotool", "mousemove", str(x + width // 2), str(y + height // 2), "click", "3")

    def new_menu_window():
        for window in desktop.top_windows() - before:
            info = desktop.window_info(window)
            if ("Override Redirect State: yes" in info and "IsViewable" in info
                    and "InputOutput" in info):
                return window, info
        return None

    _, info = wait_until(new_menu_window, 20, "the tray menu to open")
    numbers = {key: int(value) for key, value in re.findall(
        r"(Absolute upper-left X|Absolute upper-left Y|Width|Height):\s+(-?\d+)", info)}
    return (numbers["Absolute upper-left X"], numbers["Absolute upper-left Y"],
            numbers["Width"], numbers["Height"])


@pytest.fixture
def desktop(tmp_path):
    if not _gtk_available():
        pytest.skip("PyGObject (gi) with GTK 3 is not installed in this Python")
    with running_desktop(tmp_path / "desktop") as running:
        yield running


def test_tray_docks_notifies_opens_its_menu_and_refreshes_on_click(home, ecr_lab, desktop):
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    home.docker_config({SOON: {"auth": docker_auth(10)}, EXPIRED: {"auth": docker_auth(-2880)},
                        LATER: {"auth": docker_auth(540)}})
    app_output = ARTIFACTS / "app-output.txt"
    with app_output.open("w") as output:
        # the bare command, as a user starts it; --debug so the secret scan below sees the most
        app = subprocess.Popen([sys.executable, "-m", "tray_app", "--debug"],
                               env=home.full_env(**desktop.env, PYSTRAY_BACKEND="gtk"),
                               cwd=home.root, stdout=output, stderr=subprocess.STDOUT)
    try:
        # 1. docked into trayer, tooltip naming the next expiry
        docked = wait_until(lambda: icon_line(desktop), 30, "the icon to dock into trayer")
        assert "ECR: " in docked

        # 2. automatic renewal: the 10-minute login is renewed quietly (no browser needed)
        wait_until(lambda: password_in(home, SOON) in ecr_lab.issuer.passwords, 60,
                   "the automatic renewal of the 10-minute login")
        # 3. the expired login's alert reached the notification server
        expired_alert = wait_until(
            lambda: [c for c in desktop.notify_calls()
                     if "ECR login 333333333333 us-west-2 expired" in c], 30,
            "the expiry notification on D-Bus")
        assert "click it in the tray menu" in " ".join(expired_alert[0])
        wait_until(lambda: "Refreshing" not in (icon_line(desktop) or "Refreshing"), 60,
                   "the automatic renewal to finish")
        assert not [c for c in desktop.notify_calls() if "222222222222" in " ".join(c)]
        before_menu = desktop.screenshot(ARTIFACTS / "1-docked.png")

        # 4. right-click opens the menu (a new override-redirect window; the screen changes)
        menu_x, menu_y, menu_width, _ = open_menu(desktop)
        with_menu = desktop.screenshot(ARTIFACTS / "2-menu-open.png")
        assert with_menu.read_bytes() != before_menu.read_bytes()

        # 5. a click on the expired registry's row (the second row) refreshes it
        row_y = menu_y + FIRST_ROW_OFFSET + ROW_HEIGHT * 1
        desktop.run("xdotool", "mousemove", str(menu_x + menu_width // 3), str(row_y),
                    "click", "1")
        wait_until(lambda: password_in(home, EXPIRED) in ecr_lab.issuer.passwords, 90,
                   "the clicked refresh of 333333333333 us-west-2")
        refreshed = wait_until(
            lambda: [c for c in desktop.notify_calls() if "ECR logins refreshed" in c], 60,
            "the refresh notification")
        assert "333333333333 us-west-2" in " ".join(refreshed[0])
        assert "us-west-2" in "".join(ecr_lab.endpoint.calls_by_region())
        # the icon follows: the soonest login is now the one with 9 h left
        wait_until(lambda: "444444444444 eu-west-1" in (icon_line(desktop) or ""), 30,
                   "the tooltip to name the next expiry")
        desktop.screenshot(ARTIFACTS / "3-after-refresh.png")
        open_menu(desktop)
        desktop.screenshot(ARTIFACTS / "4-menu-after-refresh.png")

        # 6. Quit from the menu (keyboard: Up selects the last row)
        desktop.run("xdotool", "key", "Up", "Return")
        assert app.wait(30) == 0
    finally:
        if app.poll() is None:
            app.terminate()
            app.wait(10)
    secrets = ecr_lab.secrets()
    texts = [desktop.notify_log.read_text(errors="replace"), app_output.read_text()]
    texts += [p.read_text(errors="replace") for p in home.root.rglob("*.log")]
    leaks = [s for s in secrets for text in texts if s in text]
    figures.record("secrets found in tray notifications, output and debug log", len(leaks))
    assert not leaks
    assert "Traceback" not in app_output.read_text()


def test_without_a_tray_host_one_line_points_to_status_and_watch(home, tmp_path):
    if not _gtk_available():
        pytest.skip("PyGObject (gi) with GTK 3 is not installed in this Python")
    with running_desktop(tmp_path / "bare-desktop", with_tray=False) as bare:
        result = subprocess.run(
            [sys.executable, "-m", "tray_app", "tray", "--wait-for-tray", "1"],
            env=home.full_env(**bare.env, PYSTRAY_BACKEND="gtk"), cwd=home.root,
            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert f"no system tray on display {bare.display}" in lines[0]
    assert "ecr-token-tray status" in lines[0] and "ecr-token-tray watch" in lines[0]


def test_sigterm_stops_the_gtk_tray_cleanly_and_leaves_nothing_behind(home, desktop, tmp_path):
    """What the installer sends on upgrade: exit 0, "tray stopped", no temp icon, no lock."""
    home.app_config("[renew]\nautomatic = false\n")
    temp = tmp_path / "tmp"
    temp.mkdir()
    runtime = Path(home.env["XDG_RUNTIME_DIR"])
    app = subprocess.Popen([sys.executable, "-m", "tray_app"], cwd=home.root,
                           env=home.full_env(**desktop.env, PYSTRAY_BACKEND="gtk",
                                             TMPDIR=str(temp)),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_until(lambda: icon_line(desktop), 30, "the icon to dock into trayer")
        assert list(temp.iterdir())  # pystray's gtk backend keeps the icon in a temp file
        app.send_signal(signal.SIGTERM)
        assert app.wait(30) == 0
    finally:
        if app.poll() is None:
            app.kill()
            app.wait(10)
    log = (home.root / ".local/state/ecr-token-tray/log/ecr-token-tray.log").read_text()
    assert "SIGTERM received: stopping" in log and "tray stopped" in log
    assert list(temp.iterdir()) == []
    # ours is gone; GTK's own session folders (dconf, at-spi) belong to the desktop
    assert "ecr-token-tray.lock" not in [p.name for p in runtime.iterdir()]
    assert "Traceback" not in app.stdout.read()
