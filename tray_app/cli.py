"""Command line: parse arguments, run one command, turn errors into one clear line.

Every subcommand lives in ``tray_app/commands/<name>.py`` with ``add_arguments(parser)``
and ``run(args) -> int``. Those modules import heavy libraries (boto3, pystray, PIL)
only inside ``run``, so ``status`` stays as light as the interpreter.

A command whose options are all on/off switches lists them in ``FLAGS``; a command line
made only of those is read without argparse, which (with the gettext, shutil and
compression modules it pulls in) costs ``status`` about a tenth of its run. Anything
else (``--help``, ``--version``, a typo, a value) goes through argparse as usual.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from types import SimpleNamespace

from tray_app import APP_NAME, __version__
from tray_app.commands import add_flags
from tray_app.errors import TrayAppError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (2 ms of `status`)
if TYPE_CHECKING:
    import argparse

COMMANDS = {
    "status": "show every ECR login on this machine and when it expires",
    "login": "log in again to ECR registries (runs `aws sso login` when needed)",
    "logout": "remove a login as `docker logout` does (public.ecr.aws: anonymous pulls work)",
    "ensure": "renew logins with less than --min left, then run a command (make, CI, direnv)",
    "doctor": "check what a login needs (docker, aws CLI, helpers, SSO config, tray)",
    "watch": "the tray's loop in a terminal: live table, notifications, auto-renewal",
    "tray": "start the tray icon (the default when no command is given)",
    "autostart": "start the tray at login: enable, disable or show",
    "credhelper": "hand registries to docker-credential-ecr-login (never expires) and back",
    "kube": "Kubernetes pull secrets of local clusters: `kube secret HOST ...` creates one",
    "prompt": "the login countdown for shell prompts (`prompt init bash|zsh|fish`), tmux, bars",
}
GLOBAL_FLAGS = {"--debug": "log at debug level"}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The full parser, or (given the command being run) one with only that subcommand:
    each subparser costs about a millisecond of start-up, and `status` should start fast."""
    import argparse

    parser = argparse.ArgumentParser(
        prog=APP_NAME, description="Know when your Amazon ECR logins expire, and renew them.",
        epilog=_uninstall_line() if command is None else None,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="store_true",
                        help="print the version (with --debug also the tray backend and Python)")
    add_flags(parser, GLOBAL_FLAGS)
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


def parse_flags_only(command: str | None, argv: Sequence[str]) -> SimpleNamespace | None:
    """``argv`` as argparse reads it, when it is top-level switches, ``command``, then that
    command's switches; None for anything else (argparse then parses it, and explains any
    mistake)."""
    if command is None:
        return _version_only(argv)
    flags = getattr(_command_module(command), "FLAGS", None)
    if flags is None:
        return None
    at = list(argv).index(command)
    before, after = set(argv[:at]), set(argv[at + 1:])
    if not (before <= GLOBAL_FLAGS.keys() and after <= flags.keys()):
        return None
    switches = {flag.removeprefix("--").replace("-", "_"): flag in before | after
                for flag in {**GLOBAL_FLAGS, **flags}}
    defaults = getattr(_command_module(command), "DEFAULTS", {})  # its positional arguments
    return SimpleNamespace(command=command, version=False, **defaults, **switches)


def _version_only(argv: Sequence[str]) -> SimpleNamespace | None:
    """`--version` and top-level switches: no command module to import (the full parser
    would import every one)."""
    if "--version" not in argv or not set(argv) <= {"--version", *GLOBAL_FLAGS}:
        return None
    switches = {flag.removeprefix("--"): flag in argv for flag in GLOBAL_FLAGS}
    return SimpleNamespace(command=None, version=True, **switches)


def split_trailing_command(command: str | None, argv: Sequence[str]
                           ) -> tuple[list[str], list[str] | None]:
    """For a command that runs another (``ensure ... -- COMMAND ...``): the words before
    the first ``--`` after the command's name, and every word after it, untouched."""
    argv = list(argv)
    if command is None or not getattr(_command_module(command), "TAKES_COMMAND", False):
        return argv, None
    start = argv.index(command) + 1
    if "--" not in argv[start:]:
        return argv, None
    dashes = argv.index("--", start)
    return argv[:dashes], argv[dashes + 1:]


def parse_args(argv: Sequence[str]) -> argparse.Namespace | SimpleNamespace:
    command = requested_command(argv)
    argv, trailing = split_trailing_command(command, argv)
    args = parse_flags_only(command, argv)
    if args is not None:
        return args
    parser = build_parser(command)
    args = parser.parse_args(argv)
    if trailing is not None:
        args.command_argv = trailing
    if args.command is None and not args.version:
        parser.parse_args(["tray"], namespace=args)
    return args


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
    args = parse_args(argv)
    if args.version:
        print(version_text(args.debug))
        return 0
    try:
        code = _command_module(args.command).run(args)
        sys.stdout.flush()  # here, so a reader that left (`status | head`) is caught below
        return code
    except BrokenPipeError:
        _silence_stdout()
        return 141  # what a shell reports for a program ended by SIGPIPE
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


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush at exit finds no closed
    pipe (it would print "Exception ignored ... BrokenPipeError")."""
    import os  # already loaded by the interpreter: costs nothing

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
