"""tray_app.platforms: each OS's spelling, asked for by name (Windows answers on Linux too)."""

from __future__ import annotations

import shlex
import signal

from tray_app import platforms
from tray_app.ui import tray


def test_windows_has_no_sighup_among_its_stop_signals():
    assert "SIGHUP" not in platforms.stop_signal_names("win32")
    assert set(platforms.stop_signal_names("win32")) == {"SIGINT", "SIGBREAK", "SIGTERM"}
    assert platforms.stop_signal_names("linux") == ("SIGTERM", "SIGINT", "SIGHUP")


def test_the_tray_names_only_signals_this_os_has():
    assert tray.STOP_SIGNALS  # Linux: all three
    assert {signal.Signals(number).name for number in tray.STOP_SIGNALS} == {
        "SIGTERM", "SIGINT", "SIGHUP"}


def test_windows_quotes_like_the_c_runtime_reads_it_back():
    program = r"C:\Program Files\Python313\python.exe"
    line = platforms.command_line([program, "-m", "pip", "uninstall", "ecr-token-tray"],
                                  "win32")
    assert line == r'"C:\Program Files\Python313\python.exe" -m pip uninstall ecr-token-tray'
    assert "\\\\" not in line and "'" not in line
    plain = r"C:\Users\me\AppData\Local\Programs\Python\Python313\python.exe"
    assert platforms.quote(plain, "win32") == plain  # pastes into cmd.exe and PowerShell


def test_posix_quotes_for_a_shell():
    line = platforms.command_line(["/opt/my apps/python3", "-m", "pip"], "linux")
    assert shlex.split(line) == ["/opt/my apps/python3", "-m", "pip"]


def test_windows_advice_chains_commands_in_words_not_semicolons():
    assert platforms.one_after_another(["a", "b"], "win32") == "a, then b"
    assert platforms.one_after_another(["a", "b"], "linux") == "a; b"


def test_posix_file_modes_mean_nothing_on_windows():
    assert not platforms.file_modes_apply("win32")
    assert platforms.file_modes_apply("linux") and platforms.file_modes_apply("darwin")


def test_aws_cli_places_on_windows_come_from_the_environment():
    environ = {"ProgramFiles": "C:\\Program Files", "LOCALAPPDATA": "C:\\Users\\me\\AppData\\Local"}
    places = platforms.aws_cli_places("win32", environ)
    assert places == [r"C:\Program Files\Amazon\AWSCLIV2\aws.exe",
                      r"C:\Users\me\AppData\Local\Programs\Amazon\AWSCLIV2\aws.exe"]
    assert not any(place.startswith("/") for place in places)
    assert "/usr/bin/aws" in platforms.aws_cli_places("linux")

