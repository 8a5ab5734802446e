"""What differs between Windows and POSIX systems in what the app says and where it looks.

One place for an OS's spelling, so the commands and checks stay free of branches: how a
command line is quoted for the user to paste (cmd.exe on Windows, a POSIX shell elsewhere),
how two commands are chained in advice, which stop signals exist, where the AWS CLI v2
installs itself, whether POSIX file modes mean anything. Every function takes ``platform``
(default ``sys.platform``), so tests on Linux ask for Windows' answers without patching.

Light: no imports beyond ``os`` and ``sys`` at load (``--help`` and ``doctor`` use it).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence

WINDOWS = "win32"
# Windows has no SIGHUP; Ctrl+Break arrives as SIGBREAK (Windows only).
POSIX_STOP_SIGNALS = ("SIGTERM", "SIGINT", "SIGHUP")
WINDOWS_STOP_SIGNALS = ("SIGINT", "SIGBREAK", "SIGTERM")
# Where `aws` lands when PATH does not name it (the installers' defaults).
POSIX_AWS_PLACES = ("/usr/local/bin/aws", "/usr/bin/aws", "/opt/homebrew/bin/aws")
WINDOWS_AWS_PLACES = (r"%ProgramFiles%\Amazon\AWSCLIV2\aws.exe",
                      r"%ProgramFiles(x86)%\Amazon\AWSCLIV2\aws.exe",
                      r"%LOCALAPPDATA%\Programs\Amazon\AWSCLIV2\aws.exe")


def is_windows(platform: str | None = None) -> bool:
    return (platform or sys.platform) == WINDOWS


def quote(word: str, platform: str | None = None) -> str:
    """One word of a command line as the user's shell reads it back.

    Windows: the C runtime's rules (``subprocess.list2cmdline``): double quotes only where
    a space or tab needs them, so ``C:\\Users\\me\\python.exe`` stays as it is and pastes
    into cmd.exe and PowerShell alike. POSIX: ``shlex.quote``."""
    if is_windows(platform):
        from subprocess import list2cmdline  # lazy: `--help` need not load subprocess

        return list2cmdline([word])
    from shlex import quote as posix_quote

    return posix_quote(word)


def command_line(argv: Sequence[str], platform: str | None = None) -> str:
    """A command to paste into this OS's shell (cmd.exe spelling on Windows)."""
    return " ".join(quote(str(word), platform) for word in argv)


def one_after_another(commands: Sequence[str], platform: str | None = None) -> str:
    """Advice to run commands in turn. POSIX shells take ``a; b``; cmd.exe reads ``;`` as
    part of an argument and Windows PowerShell 5 has no ``&&``, so Windows gets words."""
    if is_windows(platform):
        return ", then ".join(commands)
    return "; ".join(commands)


def stop_signal_names(platform: str | None = None) -> tuple[str, ...]:
    """The signals that ask the tray to stop, as this OS spells them."""
    return WINDOWS_STOP_SIGNALS if is_windows(platform) else POSIX_STOP_SIGNALS


def file_modes_apply(platform: str | None = None) -> bool:
    """Whether POSIX permission bits say who may read a file. On Windows Python reports
    0o666 for every writable file (access is the folder's ACL), so no chmod advice."""
    return not is_windows(platform)


def aws_cli_places(platform: str | None = None,
                   environ: Mapping[str, str] | None = None) -> list[str]:
    """Where the AWS CLI installs when PATH does not name it. Windows' entries are expanded
    from the environment (``%ProgramFiles%``); one whose variable is unset is left out, so
    nothing on another drive (Wine's Z: is the host's /) is probed by accident."""
    if not is_windows(platform):
        return list(POSIX_AWS_PLACES)
    environ = os.environ if environ is None else environ
    places = []
    for place in WINDOWS_AWS_PLACES:
        variable, _, rest = place.removeprefix("%").partition("%")
        folder = _lookup(environ, variable)
        if folder:
            places.append(folder.rstrip("\\/") + rest)
    return places


def _lookup(environ: Mapping[str, str], name: str) -> str:
    """An environment variable, case-insensitively as Windows reads them."""
    for key, value in environ.items():
        if key.upper() == name.upper():
            return value
    return ""


def aws_executable_names(platform: str | None = None) -> tuple[str, ...]:
    """The file names of the `aws` program on PATH (Windows: the v2 installer's aws.exe;
    the v1 pip install leaves aws.cmd)."""
    return ("aws.exe", "aws.cmd") if is_windows(platform) else ("aws",)
