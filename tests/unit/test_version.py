"""`--version`: one line; with --debug also the tray backend and the Python running the app."""

from __future__ import annotations

import platform
import sys

from tray_app import __version__


def test_version_is_one_line(home):
    result = home.run_cli("--version")
    assert (result.returncode, result.stdout, result.stderr) == (
        0, f"ecr-token-tray {__version__}\n", "")


def test_debug_version_names_the_backend_and_python(home):
    for argv in (("--debug", "--version"), ("--version", "--debug")):
        result = home.run_cli(*argv, DISPLAY="", WAYLAND_DISPLAY="")
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert lines[0] == f"ecr-token-tray {__version__}"
        assert lines[1].startswith("tray backend: ")
        assert "no graphical session" in lines[1]  # the truth for a shell without a desktop
        assert lines[2] == f"python: {platform.python_version()} ({sys.executable})"


def test_the_wheel_metadata_takes_the_version_from_the_package():
    from importlib.metadata import version

    assert version("ecr-token-tray") == __version__
