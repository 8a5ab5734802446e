"""The Windows build of the app, run under Wine: python.org's embeddable CPython 3.13 with
win_amd64 wheels (tests/wine_support.py), in a Wine prefix without the host's Z: drive.

Real parts: Wine's Win32 (user32 windows and messages, Shell_NotifyIcon, the registry),
pystray's win32 backend, winreg, Windows paths, Xvfb + trayer as the notification area
(Wine's explorer docks each notify icon into it), and the stand-in ECR endpoint reached
through ``AWS_ENDPOINT_URL_ECR`` as boto3 reads it. Not Windows' own shell: Wine draws its
own balloon and never sends NIN_BALLOONUSERCLICK, so that message is posted to the icon's
window as the shell would post it.

Each `wine` start costs about 3 s: checks are batched into few calls.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests import figures, wine_support
from tests.builders import docker_auth, host
from tests.stand_ins.ecr_endpoint import running_ecr_endpoint, unreachable_url
from tray_app.ui.balloon import NIN_BALLOONUSERCLICK

pytestmark = [pytest.mark.wine,
              pytest.mark.skipif(bool(wine_support.missing()),
                                 reason=wine_support.missing() or "wine present")]

OK_HOST = host("123456789012", "us-east-1")
DUE_HOST = host("210987654321", "eu-west-1")
RUN_VALUE = re.compile(r'ecr-token-tray\s+REG_SZ\s+"C:\\Python313\\pythonw\.exe" -m tray_app tray')
BUNDLE_RUN_VALUE = re.compile(
    r'ecr-token-tray\s+REG_SZ\s+"C:\\dist\\ecr-token-tray\\ecr-token-tray\.exe" tray')
PYSTRAY_WM_NOTIFY = 0x400 + 11  # pystray's callback message for its icon (WM_USER + 11)


@pytest.fixture(scope="module")
def wine(tmp_path_factory):
    prefix = wine_support.session_prefix(tmp_path_factory.mktemp("wine"))
    yield prefix
    prefix.stop()


@pytest.fixture(scope="module")
def screen(tmp_path_factory, wine):
    with wine_support.tray_display(tmp_path_factory.mktemp("x")) as display:
        wine.display = display.display  # one display for every wine call: one explorer
        yield display


def write_docker_config(wine: wine_support.WinePrefix, minutes_left: dict[str, float]) -> Path:
    """%USERPROFILE%\\.docker\\config.json with ECR logins in their real format."""
    path = wine.profile / ".docker" / "config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"auths": {h: {"auth": docker_auth(m)}
                                          for h, m in minutes_left.items()}}))
    return path


def app(wine: wine_support.WinePrefix, *args: str) -> list[str]:
    return [wine.python, "-m", "tray_app", *args]


@pytest.mark.skipif(shutil.which("osslsigncode") is None, reason="osslsigncode not installed")
def test_the_windows_python_is_python_orgs_build(wine):
    """The embeddable CPython from the PyPI sdist is the PSF-signed build: its digest matches
    its Authenticode signature (no Windows root store here to check the chain)."""
    result = subprocess.run(["osslsigncode", "verify", "-in",
                             str(wine.host_path(r"C:\Python313\python313.dll"))],
                            capture_output=True, text=True, timeout=60, check=False)
    current = re.search(r"Current message digest\s*:\s*(\w+)", result.stdout)
    calculated = re.search(r"Calculated message digest\s*:\s*(\w+)", result.stdout)
    assert current and calculated and current.group(1) == calculated.group(1), result.stdout
    assert re.search(r"Subject: .*CN=Python Software Foundation", result.stdout), result.stdout


def test_cli_speaks_windows(wine, screen):
    write_docker_config(wine, {OK_HOST: 5 * 60, DUE_HOST: 10})
    elsewhere = wine.drive_c / "elsewhere" / ".docker" / "config.json"  # Git Bash's HOME
    elsewhere.parent.mkdir(parents=True)
    elsewhere.write_text(json.dumps({"auths": {host("999999999999"): {"auth": docker_auth(60)}}}))
    # A stand-in AWS CLI v2 as a batch file on PATH (found through PATHEXT, like aws.exe).
    fake_aws = wine.drive_c / "fake-aws" / "aws.cmd"
    fake_aws.parent.mkdir()
    fake_aws.write_text("@echo aws-cli/2.15.30 Python/3.11.8 Windows/10 exe/AMD64\r\n")
    path = r"C:\fake-aws;C:\windows\system32;C:\windows"
    version, debug_version, status, doctor, doctor_json, help_text, with_home, with_aws = \
        wine.batch([
            app(wine, "--version"), app(wine, "--debug", "--version"),
            app(wine, "status", "--json"), app(wine, "doctor"), app(wine, "doctor", "--json"),
            app(wine, "--help"), (app(wine, "status", "--json"), {"HOME": r"C:\elsewhere"}),
            (app(wine, "doctor", "--json"), {"PATH": path})])
    assert (version.returncode, version.stdout) == (0, "ecr-token-tray 0.1.0\n")
    assert "tray backend: win32" in debug_version.stdout
    assert "python: 3.13" in debug_version.stdout
    registries = json.loads(status.stdout)["registries"]
    assert {r["host"]: r["state"] for r in registries} == {OK_HOST: "ok", DUE_HOST: "critical"}
    # %USERPROFILE% is home on Windows (as for docker and the AWS CLI), whatever HOME says.
    assert [(r["host"], r["expires_at"]) for r in json.loads(with_home.stdout)["registries"]] \
        == [(r["host"], r["expires_at"]) for r in registries]
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    checks = {c["name"]: c for c in json.loads(doctor_json.stdout)}
    config = checks["config.json"]
    assert (config["level"], config["fix"]) == ("pass", "")
    assert config["detail"] == r"C:\users" + f"\\{wine.user}" + r"\.docker\config.json"
    assert checks["tray"]["detail"] == "pystray backend win32"
    assert checks["aws CLI"]["level"] == "warn"  # none on PATH, none in Program Files
    aws = {c["name"]: c for c in json.loads(with_aws.stdout)}["aws CLI"]
    assert (aws["level"], aws["detail"]) == ("pass", r"AWS CLI v2.15.30 (C:\fake-aws\aws.cmd):"
                                             " sign-ins run `aws sso login`"), aws
    for text in (doctor.stdout, help_text.stdout):
        assert "chmod" not in text and "mode 0" not in text
        assert "/usr/" not in text and "/opt/" not in text  # no Linux path probed or shown
        assert "'" not in text.split("uninstall:")[-1]  # no POSIX quoting
    uninstall = checks["installation"]["detail"].split("uninstall: ")[1]
    assert uninstall == (r"C:\Python313\python.exe -m tray_app autostart disable, then"
                         r" C:\Python313\python.exe -m pip uninstall ecr-token-tray")
    assert f"uninstall: {uninstall}" in " ".join(help_text.stdout.split())
    assert "Traceback" not in doctor.stderr + status.stderr


def test_autostart_round_trip_through_the_run_key(wine, screen):
    before, enable, status, query, disable, after, query_after = wine.batch([
        app(wine, "autostart", "status"), app(wine, "autostart", "enable"),
        app(wine, "autostart", "status"), ["reg", "query", wine_support.RUN_KEY],
        app(wine, "autostart", "disable"), app(wine, "autostart", "status"),
        ["reg", "query", wine_support.RUN_KEY]])
    assert before.returncode == 1 and "autostart disabled" in before.stdout
    assert enable.returncode == 0
    assert RUN_VALUE.search(query.stdout), query.stdout
    assert status.returncode == 0
    assert status.stdout.strip() == (
        r"autostart enabled: HKCU\Software\Microsoft\Windows\CurrentVersion\Run\ecr-token-tray"
        r' starts C:\Python313\pythonw.exe -m tray_app tray')
    assert "\\\\" not in status.stdout
    assert disable.returncode == 0 and "removed" in disable.stdout
    assert after.returncode == 1
    assert "ecr-token-tray" not in query_after.stdout


def test_tray_docks_notifies_with_its_own_balloon_and_its_menu_works(
        wine, screen, tmp_path, screenshots):
    tray_session(wine, screen, app(wine, "--debug", "tray"), tmp_path, screenshots / "wine-pip")


@pytest.mark.wine_bundle
def test_the_pyinstaller_bundle_builds_and_runs(wine, screen, tmp_path, screenshots):
    """installer/pyinstaller/ecr-token-tray-windows.spec built by PyInstaller under Wine; its
    console twin answers the CLI and its windowed .exe is the tray."""
    started = time.monotonic()
    source = wine.drive_c / "ett-src"
    wine_support.copy_checkout(source)
    build = wine.run([f"C:\\{wine_support.BUILD_PYTHON_DIR}\\python.exe", "-m", "PyInstaller",
                      "--noconfirm", "--clean", "--log-level", "WARN", "--distpath", r"C:\dist",
                      "--workpath", r"C:\dist\.work",
                      r"C:\ett-src\installer\pyinstaller\ecr-token-tray-windows.spec"],
                     timeout=900)
    folder = wine.drive_c / "dist" / "ecr-token-tray"
    assert (folder / "ecr-token-tray.exe").is_file(), build.stdout[-2000:] + build.stderr[-2000:]
    assert (folder / "ecr-token-tray-cli.exe").is_file()
    figures.record("Wine PyInstaller build (s)", round(time.monotonic() - started))
    cli = r"C:\dist\ecr-token-tray\ecr-token-tray-cli.exe"
    write_docker_config(wine, {OK_HOST: 5 * 60, DUE_HOST: 10})
    version, status, enable, query, disable = wine.batch([
        [cli, "--version"], [cli, "status", "--json"], [cli, "autostart", "enable"],
        ["reg", "query", wine_support.RUN_KEY], [cli, "autostart", "disable"]])
    assert (version.returncode, version.stdout) == (0, "ecr-token-tray 0.1.0\n")
    assert {r["host"]: r["state"] for r in json.loads(status.stdout)["registries"]} == {
        OK_HOST: "ok", DUE_HOST: "critical"}
    # The Run value starts the windowed twin (no console window at login).
    assert BUNDLE_RUN_VALUE.search(query.stdout), query.stdout
    assert enable.returncode == 0 and disable.returncode == 0
    tray_session(wine, screen, [r"C:\dist\ecr-token-tray\ecr-token-tray.exe", "--debug", "tray"],
                 tmp_path, screenshots / "wine-bundle", BUNDLE_RUN_VALUE)


def tray_session(wine, screen, argv: list[str], tmp_path: Path, shots: Path,
                 run_value: re.Pattern = RUN_VALUE) -> None:
    """Start the tray, check it end to end (_session), and that it exits 0 and cleanly."""
    app_folder = wine.local_appdata / "ecr-token-tray"
    shutil.rmtree(app_folder, ignore_errors=True)  # no log, alert memory or learned expiry
    write_docker_config(wine, {OK_HOST: 5 * 60, DUE_HOST: 10})
    app_folder.mkdir(parents=True)
    (app_folder / "config.toml").write_text("[renew]\nautomatic = false\n")  # a click renews
    log_path = app_folder / "Logs" / "ecr-token-tray.log"
    with running_ecr_endpoint() as endpoint:
        env = {**endpoint.env(), "AWS_ACCESS_KEY_ID": "AKIAWINETEST", "AWS_SECRET_ACCESS_KEY":
               "wine-test-secret", "HTTPS_PROXY": unreachable_url()}
        started = time.monotonic()
        tray = wine.start(argv, tmp_path / "tray.out", **env)
        try:
            _session(wine, screen, tray, endpoint, log_path, shots, run_value, started)
        finally:
            if tray.poll() is None:
                tray.kill()
            tray.wait(30)
            tray.cat.wait(30)
    output = (tmp_path / "tray.out").read_text(errors="replace")
    assert tray.returncode == 0, output
    assert "Traceback" not in output + _log(log_path)


def _log(log_path: Path) -> str:
    return log_path.read_text(encoding="utf-8", errors="replace") if log_path.exists() else ""


def _session(wine, screen, tray, endpoint, log_path, shots: Path, run_value: re.Pattern,
             started: float) -> None:
    wine_support.wait_for(lambda: screen.icon_count() >= 1, 90, "the icon docked in trayer",
                          step=0.1)
    figures.record(f"Wine {shots.name}: start to docked (s)",
                   round(time.monotonic() - started, 1))
    screen.screenshot(shots / "1-docked.png")
    # The alert for the login with 10 minutes left: a balloon of the app's own icon.
    wine_support.wait_for(lambda: "notification sent via tray icon" in _log(log_path), 60,
                          "the alert, as a balloon of the tray icon")
    wine_support.wait_for(lambda: _balloon_on_screen(screen, shots / "2-balloon.png"), 30,
                          "the balloon on screen")
    figures.record(f"Wine {shots.name}: start to balloon on screen (s)",
                   round(time.monotonic() - started, 1))
    assert screen.icon_count() == 1  # plyer would have added a second icon for it
    assert "via plyer" not in _log(log_path)
    assert "tray starting with backend win32" in _log(log_path)
    balloon_text = _ocr(shots / "2-balloon.png", "500x200+524+0", 3)
    assert "Click here to log in again" in balloon_text, balloon_text  # the action first
    assert "210987654321" in balloon_text, balloon_text

    # A left click on the icon runs the action the balloon named: a renewal that reaches
    # the stand-in ECR endpoint for the login's region.
    panel_w, panel_h, panel_x, panel_y = screen.panel()
    icon_x, icon_y = panel_x + panel_w - 11, panel_y + panel_h // 2
    screen.x("xdotool", "mousemove", str(icon_x), str(icon_y), "click", "1")
    wine_support.wait_for(lambda: endpoint.calls_by_region()["eu-west-1"] >= 1, 60,
                          "GetAuthorizationToken for eu-west-1 after the icon click")
    wine_support.wait_for(lambda: "refresh failed" in _log(log_path)
                          or "refresh done" in _log(log_path), 60, "the renewal's end")
    assert "icon clicked: running refresh" in _log(log_path)
    # Its failure (the registry cannot be reached to verify) is a balloon with "Log in
    # again"; the shell's balloon-click message runs that once more.
    wine_support.wait_for(lambda: _log(log_path).count("notification sent via tray icon") >= 2,
                          60, "the failure balloon")
    calls = endpoint.token_calls()
    posted = wine_support.post_to_tray_icon(wine, PYSTRAY_WM_NOTIFY, NIN_BALLOONUSERCLICK)
    assert posted.stdout.strip() not in ("", "0"), posted
    wine_support.wait_for(lambda: endpoint.token_calls() > calls, 60,
                          "a second GetAuthorizationToken after the balloon click")
    assert "balloon clicked: running" in _log(log_path)
    wine_support.wait_for(lambda: "refresh done" in _log(log_path).rsplit("balloon clicked")[1],
                          60, "the second renewal's end")

    rows = _settled_menu_rows(log_path)
    assert any(OK_HOST.split(".")[0] in row for row in rows), rows
    assert any(DUE_HOST.split(".")[0] in row for row in rows), rows
    assert {"Refresh all expiring", "Start at login", "Open log", "Quit"} <= set(rows), rows

    # The menu: a right click; "Start at login" writes the Run value.
    menu_click = (screen, icon_x, icon_y, log_path)
    menu = _menu_click(*menu_click, shots / "3-menu.png", "Start at login",
                       lambda: run_value.search(wine.reg_query()))
    width, height, x, y = menu
    menu_text = _ocr(shots / "3-menu.png", f"{width}x{height}+{x}+{y}", 4)
    assert "Quit" in menu_text and "Start at login" in menu_text, menu_text
    wine.run(["reg", "delete", wine_support.RUN_KEY, "/v", "ecr-token-tray", "/f"])
    # Quit: exit 0, the icon leaves the tray.
    _menu_click(*menu_click, shots / "4-menu-again.png", "Quit", lambda: tray.poll() is not None)
    tray.wait(60)
    wine_support.wait_for(lambda: screen.icon_count() == 0, 30, "the icon gone from trayer")
    screen.screenshot(shots / "5-after-quit.png")
    text = _log(log_path)
    assert "quit from the menu" in text and "tray stopped" in text


def _balloon_on_screen(screen, path: Path) -> bool:
    """Wine's balloon is a tooltip window over the screen's top right: the picture's
    non-background part grows far wider than the 22 px panel."""
    screen.screenshot(path)
    size = subprocess.run(["convert", str(path), "-format", "%@", "info:"], capture_output=True,
                          text=True, check=False).stdout
    return bool(size) and int(size.split("x")[0]) > 150


def _ocr(picture: Path, crop: str, scale: int) -> str:
    """Tesseract on an upscaled, thresholded part of a screenshot (Wine's small fonts)."""
    prepared = picture.with_name(picture.stem + "-ocr.png")
    subprocess.run(["convert", str(picture), "-crop", crop, "+repage", "-colorspace", "Gray",
                    "-filter", "Lanczos", "-resize", f"{scale * 100}%", "-threshold", "60%",
                    str(prepared)], check=True, timeout=60)
    return subprocess.run(["tesseract", str(prepared), "-", "--psm", "6"], capture_output=True,
                          text=True, timeout=60, check=False).stdout


def _settled_menu_rows(log_path: Path) -> list[str]:
    """The menu's rows once the menu was rebuilt after the last renewal (a renewal adds a
    busy row while it runs: a click computed from those rows would hit the next row)."""
    def settled() -> list[str] | None:
        text = _log(log_path)
        after = text.rsplit("refresh done", 1)[-1]
        return _menu_rows(after) if " menu: " in after else None

    return wine_support.wait_for(settled, 30, "the menu rebuilt after the renewal")


def _menu_rows(log_text: str) -> list[str]:
    """The rows of the newest menu, as the tray logs it at --debug."""
    lines = [line for line in log_text.splitlines() if " menu: " in line]
    assert lines, "no menu logged"
    return lines[-1].split(" menu: ", 1)[1].split(" | ")


def _menu_click(screen, icon_x: int, icon_y: int, log_path: Path, shot: Path, row: str,
                done) -> tuple[int, int, int, int]:
    """Open the menu and click ``row`` until ``done()``. A right click while the menu is being
    rebuilt on another thread showed Wine's menu of a moment before (a busy row more, so the
    click hit the row above): the click is tried again, up to three times."""
    for _attempt in range(3):
        menu, rows = _open_menu(screen, icon_x, icon_y, shot, log_path)
        _click_row(screen, menu, rows, row)
        try:
            wine_support.wait_for(done, 15, f"what {row!r} does")
            return menu
        except AssertionError:
            figures.add("Wine menu clicks tried again")
            if _popups(screen):
                screen.x("xdotool", "key", "Escape")
    raise AssertionError(f"clicking {row!r} in the tray menu did nothing, three times")


def _open_menu(screen, icon_x: int, icon_y: int, shot: Path,
               log_path: Path) -> tuple[tuple[int, int, int, int], list[str]]:
    """Right-click the icon until the popup shows the newest logged rows (its height says
    so; Wine once showed the menu of a moment before); (width, height, x, y) and the rows."""
    for _attempt in range(3):
        _settled_menu_rows(log_path)
        time.sleep(1)  # updates queued for the GUI thread land (each logs its menu), then:
        rows = _settled_menu_rows(log_path)
        before = _popups(screen)
        screen.x("xdotool", "mousemove", str(icon_x), str(icon_y), "click", "3")
        geometry = wine_support.wait_for(lambda: (_popups(screen) - before) or None, 30,  # noqa: B023
                                         "the popup menu")
        menu = max(geometry, key=lambda g: g[1])
        # The tooltip covers the menu while the pointer rests on the icon: move onto the
        # menu (its first row, away from the rows clicked next).
        screen.x("xdotool", "mousemove", str(menu[2] + 30), str(menu[3] + 8))
        screen.screenshot(shot)
        if menu[1] == _menu_height(rows):
            return menu, rows
        figures.add("Wine menus reopened (stale rows)")
        shot.with_name(f"{shot.stem}-reopened.txt").write_text(  # for whoever looks into it
            f"menu {menu}, expected height {_menu_height(rows)} for rows {rows}\n")
        screen.x("xdotool", "key", "Escape")
        wine_support.wait_for(lambda: not (_popups(screen) - before), 30,  # noqa: B023
                              "the stale menu closed")
    raise AssertionError(f"the menu ({menu}) never matched the logged rows {rows}")


def _popups(screen) -> set[tuple[int, int, int, int]]:
    found = set()
    for line in screen.x("xwininfo", "-root", "-tree").splitlines():
        if '("python.exe"' in line or '("ecr-token-tray' in line:
            match = re.search(r"(\d+)x(\d+)\+(-?\d+)\+(-?\d+)", line)
            if match and "1x1+" not in line:
                width, height, x, y = (int(n) for n in match.groups())
                if height > 40:
                    found.add((width, height, x, y))
    return found


MENU_FRAME = 3       # Wine 8's popup menu: 3 px frame, 17 px rows, 9 px separators
ROW_HEIGHT = 17
SEPARATOR_HEIGHT = 9


def _menu_height(rows: list[str]) -> int:
    separators = rows.count("-")
    return 2 * MENU_FRAME + ROW_HEIGHT * (len(rows) - separators) + SEPARATOR_HEIGHT * separators


def _click_row(screen, menu, rows: list[str], text: str) -> None:
    """Click the row named ``text`` (the menu's height matched ``rows``)."""
    _, _, x, y = menu
    top = y + MENU_FRAME
    for row in rows:
        size = SEPARATOR_HEIGHT if row == "-" else ROW_HEIGHT
        if row == text:
            screen.x("xdotool", "mousemove", str(x + 30), str(top + size // 2), "click", "1")
            return
        top += size
    raise AssertionError(f"no row {text!r} in {rows}")
