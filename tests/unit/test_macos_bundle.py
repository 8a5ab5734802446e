"""macOS start at login and the .app, checked on Linux: what launchd and Finder will read.

- The LaunchAgent the launchd backend writes (``autostart enable`` on a Mac), with a stand-in
  `launchctl` on PATH that records its calls: parsed by ``plistlib`` and holding what
  launchd needs for a menu bar app started once at login.
- The PyInstaller spec installer/pyinstaller/ecr-token-tray-macos.spec, executed as
  PyInstaller executes it (its globals: SPECPATH, Analysis, PYZ, EXE, COLLECT, BUNDLE), with
  recorders instead of PyInstaller's build steps: the bundle id and ``LSUIElement``.
Neither has run on a real Mac (no Mac here; see README "macOS").
"""

from __future__ import annotations

import os
import plistlib
import stat
import sys
from pathlib import Path

import pytest

from tests.builders import REPO_ROOT
from tray_app import __version__, autostart

SPEC = REPO_ROOT / "installer" / "pyinstaller" / "ecr-token-tray-macos.spec"


@pytest.fixture
def launchctl(tmp_path, monkeypatch) -> Path:
    """A stand-in `launchctl`: `print` answers "not loaded" (113, as launchctl does for an
    unknown job); `bootstrap`/`bootout` succeed. Calls go to launchctl.log."""
    folder = tmp_path / "bin"
    folder.mkdir()
    log = tmp_path / "launchctl.log"
    script = folder / "launchctl"
    script.write_text(f'#!/bin/sh\necho "$@" >> {log}\n[ "$1" = print ] && exit 113\nexit 0\n')
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    return log


@pytest.mark.skipif(sys.platform == "win32", reason="a POSIX shell stand-in for launchctl")
def test_the_launch_agent_parses_and_has_what_launchd_needs(home, launchctl):
    message = autostart._Launchd.enable(autostart.launch_command())
    path = home.root / "Library" / "LaunchAgents" / "io.github.ecr-token-tray.plist"
    assert message.startswith(f"autostart enabled: {path}")
    # launchd ignores a plist that others may write
    assert stat.S_IMODE(path.stat().st_mode) & 0o022 == 0
    document = plistlib.loads(path.read_bytes())
    assert document["Label"] == path.stem  # launchctl addresses the job by this name
    program, *args = document["ProgramArguments"]
    assert Path(program).is_absolute() and Path(program).exists()  # no PATH at login
    assert args[-1] == "tray"
    assert document["RunAtLoad"] is True  # start once at login...
    assert document.get("KeepAlive", False) is False  # ...and never restart in a loop (Quit)
    assert document["LimitLoadToSessionType"] == "Aqua"  # a GUI login, not ssh
    assert document["ProcessType"] == "Interactive"  # a UI app: not throttled
    assert "Program" not in document  # ProgramArguments alone names the program
    uid = os.getuid()
    assert launchctl.read_text().splitlines() == [
        f"print gui/{uid}/io.github.ecr-token-tray", f"bootstrap gui/{uid} {path}"]
    status = autostart._Launchd.status()
    assert status.enabled and status.command == (program, *args) and not status.problem
    assert autostart._Launchd.disable() == f"autostart disabled: removed {path}"
    assert not path.exists()


class Recorder:
    """Stands in for one of PyInstaller's build steps: keeps its arguments."""

    pure = scripts = binaries = datas = ()  # what the spec reads from Analysis

    def __init__(self, name: str, made: dict) -> None:
        self.name, self.made = name, made

    def __call__(self, *args, **kwargs):
        self.made[self.name] = (args, kwargs)
        return self


@pytest.fixture
def spec_run(monkeypatch) -> dict:
    """Execute the macOS spec as PyInstaller does; return {step: (args, kwargs)}."""
    pytest.importorskip("PyInstaller")  # spec_common lists hidden imports with its hooks
    made: dict = {}
    namespace = {name: Recorder(name, made)
                 for name in ("Analysis", "PYZ", "EXE", "COLLECT", "BUNDLE")}
    namespace.update(SPECPATH=str(SPEC.parent), SPEC=str(SPEC), __file__=str(SPEC))
    monkeypatch.setattr(sys, "path", list(sys.path))  # the spec prepends its folder
    monkeypatch.delitem(sys.modules, "spec_common", raising=False)
    exec(compile(SPEC.read_text(), str(SPEC), "exec"), namespace)
    sys.modules.pop("spec_common", None)
    return made


def test_the_app_bundle_has_a_bundle_id_and_no_dock_icon(spec_run):
    _, bundle = spec_run["BUNDLE"]
    assert bundle["name"] == "ECR Token Tray.app"
    assert bundle["bundle_identifier"] == "io.github.ecr-token-tray"
    # the LaunchAgent's label and the bundle id are the same name
    assert bundle["bundle_identifier"] == autostart.LAUNCH_AGENT_LABEL
    info = bundle["info_plist"]
    assert info["LSUIElement"] is True  # a menu bar app: no Dock icon, no app menu
    assert "CFBundleIdentifier" not in info  # BUNDLE writes it from bundle_identifier
    assert info["CFBundleShortVersionString"] == info["CFBundleVersion"] == __version__
    assert plistlib.loads(plistlib.dumps(info)) == info  # what Info.plist can hold
    assert Path(bundle["icon"]).is_file() and bundle["icon"].endswith(".icns")


def test_the_app_is_windowed_and_carries_the_darwin_backend(spec_run):
    _, exe = spec_run["EXE"]
    assert exe["console"] is False and exe["name"] == "ecr-token-tray"
    _, analysis = spec_run["Analysis"]
    # chosen by name at run time, so PyInstaller must be told
    assert "pystray._darwin" in analysis["hiddenimports"]
    assert "tray_app.service.actions" in analysis["hiddenimports"]
