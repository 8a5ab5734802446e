"""`doctor` and the tray make the same backend decision (tray_app.ui.backend), on real
sessions: a private bus with a StatusNotifierWatcher (the test's own, tests/sni_watcher.py),
Xvfb + trayer (XEmbed only), Wayland without a watcher, and a missing GTK typelib (a
private mount namespace hides the system's typelibs: PyGObject imports, GTK does not).

Each case runs `ecr-token-tray doctor --json` and the real tray (`ecr-token-tray tray`):
where the tray starts, its log names the backend doctor named; where it cannot, it exits 2
with one line, the same words doctor prints.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.desktop import missing_tools, running_desktop, wait_until

pytest.importorskip("dbus_fast")
from tests.sni_support import Watcher, private_bus, stop

pytestmark = pytest.mark.skipif(shutil.which("dbus-daemon") is None,
                                reason="needs dbus-daemon")
TYPELIBS = Path("/usr/lib/x86_64-linux-gnu/girepository-1.0")


def doctor_checks(home, env: dict[str, str], prefix: list[str] | None = None) -> dict:
    result = subprocess.run([*(prefix or []), sys.executable, "-m", "tray_app", "doctor",
                             "--json"], env=home.full_env(**env), cwd=home.root,
                            capture_output=True, text=True, timeout=120, check=False)
    assert "Traceback" not in result.stderr, result.stderr
    return {check["name"]: check for check in json.loads(result.stdout)}


def doctor_tray(home, env: dict[str, str], prefix: list[str] | None = None) -> dict:
    return doctor_checks(home, env, prefix)["tray"]


def tray_log(home) -> str:
    path = home.root / ".local/state/ecr-token-tray/log/ecr-token-tray.log"
    return path.read_text() if path.exists() else ""


def tray_starts_with(home, env: dict[str, str], backend: str) -> None:
    app = subprocess.Popen([sys.executable, "-m", "tray_app", "tray", "--wait-for-tray", "5"],
                           env=home.full_env(**env), cwd=home.root, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    try:
        wait_until(lambda: "tray starting" in tray_log(home), 60, "the tray to start")
        assert f"tray backend: {backend} - " in tray_log(home)
        app.send_signal(signal.SIGTERM)
        assert app.wait(30) == 0
    finally:
        stop(app)


def tray_refuses(home, env: dict[str, str], prefix: list[str] | None = None) -> str:
    result = subprocess.run([*(prefix or []), sys.executable, "-m", "tray_app", "tray",
                             "--wait-for-tray", "1"], env=home.full_env(**env), cwd=home.root,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def test_a_status_notifier_watcher_means_the_native_tray(home, tmp_path):
    with private_bus(tmp_path / "bus", activation=False) as address:
        watcher = Watcher(address, tmp_path).start()
        try:
            env = {"DBUS_SESSION_BUS_ADDRESS": address, "WAYLAND_DISPLAY": "wayland-test",
                   "DISPLAY": "", "PYSTRAY_BACKEND": ""}
            checks = doctor_checks(home, env)
            check = checks["tray"]
            assert (check["level"], check["backend"]) == ("pass", "native")
            assert check["detail"].startswith("native StatusNotifierItem over D-Bus")
            # this bus has no notification server and can start none: doctor says so
            assert checks["notifications"]["level"] == "warn"
            assert checks["notifications"]["detail"].startswith("no notification server")
            tray_starts_with(home, env, "native")
        finally:
            watcher.stop()


def test_wayland_without_a_watcher_gets_one_line_naming_what_to_enable(home, tmp_path):
    with private_bus(tmp_path / "bus") as address:
        env = {"DBUS_SESSION_BUS_ADDRESS": address, "WAYLAND_DISPLAY": "wayland-test",
               "DISPLAY": "", "PYSTRAY_BACKEND": ""}
        check = doctor_tray(home, env)
        line = tray_refuses(home, env)
    assert check["level"] == "fail" and check["backend"] is None
    assert check["detail"].startswith("no system tray on display wayland-test (Wayland: no"
                                      " StatusNotifier host")
    assert "gnome-extensions enable ubuntu-appindicators@ubuntu.com" in check["fix"]
    assert line == f"ecr-token-tray: {check['detail']} - {check['fix']}"


@pytest.mark.desktop
@pytest.mark.skipif(bool(missing_tools()), reason="needs Xvfb, trayer and dunst")
def test_an_xembed_tray_without_a_watcher_means_the_gtk_backend(home, tmp_path):
    pytest.importorskip("gi")
    with running_desktop(tmp_path / "desktop") as desktop:
        env = {**desktop.env, "WAYLAND_DISPLAY": "", "PYSTRAY_BACKEND": ""}
        check = doctor_tray(home, env)
        assert (check["level"], check["backend"]) == ("pass", "gtk")
        tray_starts_with(home, env, "gtk")


def _typelibs_hidden() -> list[str] | None:
    """A command prefix that runs a program with the GI typelib folder empty, or None."""
    if not TYPELIBS.is_dir() or shutil.which("unshare") is None:
        return None
    script = f"mount -t tmpfs none {TYPELIBS} && exec \"$@\""
    prefix = ["unshare", "-m", "sh", "-c", script, "sh"]
    probe = subprocess.run([*prefix, "true"], capture_output=True, timeout=30, check=False)
    return prefix if probe.returncode == 0 else None


@pytest.mark.desktop
@pytest.mark.skipif(bool(missing_tools()), reason="needs Xvfb, trayer and dunst")
def test_a_missing_gtk_typelib_is_one_line_not_a_value_error(home, tmp_path):
    pytest.importorskip("gi")
    prefix = _typelibs_hidden()
    if prefix is None:
        pytest.skip("cannot hide the typelibs here (needs unshare -m, i.e. root)")
    with running_desktop(tmp_path / "desktop") as desktop:  # trayer: an XEmbed tray
        env = {**desktop.env, "WAYLAND_DISPLAY": "", "PYSTRAY_BACKEND": ""}
        check = doctor_tray(home, env, prefix)
        line = tray_refuses(home, env, prefix)
    assert check["level"] == "fail" and check["backend"] is None
    assert "PyGObject (GTK 3) does not import (ValueError: Namespace Gtk not available" \
        in check["detail"]
    assert check["fix"].startswith("an XEmbed tray needs PyGObject (GTK 3): sudo apt install")
    assert line == f"ecr-token-tray: {check['detail']} - {check['fix']}"
