"""Command line: parse arguments, run one command, turn errors into one clear line.

Every subcommand lives in ``tray_app/commands/<name>.py`` with ``add_arguments(parser)``
and ``run(args) -> int``. Those modules import heavy libraries (boto3, pystray, PIL)
only inside ``run``, so ``status`` stays as light as the interpreter.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from tray_app import APP_NAME, __version__
from tray_app.errors import TrayAppError

COMMANDS = {
    "status": "show every ECR login on this machine and when it expires",
    "login": "log in again to ECR registries (runs `aws sso login` when needed)",
    "doctor": "check what a login needs (docker, aws CLI, helpers, SSO config, tray)",
    "watch": "the tray's loop in a terminal: live table, notifications, auto-renewal",
    "tray": "start the tray icon (the default when no command is given)",
    "autostart": "start the tray at login: enable, disable or show",
    "credhelper": "hand registries to docker-credential-ecr-login (never expires) and back",
}

def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The full parser, or (given the command being run) one with only that subcommand:
    each subparser costs about a millisecond of start-up, and `status` should start fast."""
    parser = argparse.ArgumentParser(
        prog=APP_NAME, description="Know when your Amazon ECR logins expire, and renew them.",
        epilog=_uninstall_line() if command is None else None,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="store_true",
                        help="print the version (with --debug also the tray backend and Python)")
    parser.add_argument("--debug", action="store_true", help="log at debug level")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, summary in COMMANDS.items():
        if command not in (None, name):
            continue
        sub = commands.add_parser(name, help=summary, description=summary)
        _command_module(name).add_arguments(sub)
    return parser


def _uninstall_line() -> str:
    from tray_app.install_info import current

    return f"uninstall: {current().uninstall_command}"


def _command_module(name: str):
    return importlib.import_module(f"tray_app.commands.{name}")


def requested_command(argv: Sequence[str]) -> str | None:
    """The subcommand named on the command line (top-level options take no value)."""
    words = [word for word in argv if not word.startswith("-")]
    return words[0] if words and words[0] in COMMANDS else None


def version_text(debug: bool = False) -> str:
    """`--version`: the version; with --debug also which tray backend runs and on what Python."""
    lines = [f"{APP_NAME} {__version__}"]
    if debug:
        import platform

        from tray_app.commands.doctor import check_tray_backend

        tray = check_tray_backend()
        lines += [f"tray backend: {tray.backend or 'none'} ({tray.detail})",
                  f"python: {platform.python_version()} ({sys.executable})",
                  f"platform: {platform.platform()}"]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(requested_command(argv))
    args = parser.parse_args(argv)
    if args.version:
        print(version_text(args.debug))
        return 0
    command = args.command or "tray"
    if args.command is None:
        parser.parse_args(["tray"], namespace=args)
    try:
        return _command_module(command).run(args)
    except TrayAppError as error:
        print(f"{APP_NAME}: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{APP_NAME}: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # the one place a bug becomes a line, not a traceback
        import logging  # only here: importing it costs every `status` a few ms

        logging.getLogger(__name__).debug("unexpected error", exc_info=True)
        print(f"{APP_NAME}: internal error ({type(error).__name__}) - please report it;"
              " run with --debug and see the log for details", file=sys.stderr)
        return 70
