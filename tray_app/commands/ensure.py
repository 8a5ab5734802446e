"""``ecr-token-tray ensure [--min DURATION] [HOST... | --all] [-- COMMAND ...]``.

Renews every selected login (Docker, Podman, Helm, Kubernetes pull secrets) that has less
than DURATION left, then runs COMMAND in its place (exec: same
process, stdin, stdout and signals; no shell) so its exit status is ours. A login that
cannot be renewed stops it there: COMMAND does not run, exit 75 (EX_TEMPFAIL) with one
line per registry naming the fix. Local files tell the expiries: when every login has
time, nothing talks to AWS.

Everything this command prints goes to stderr: stdout belongs to COMMAND.
Module level stays light (cli.py imports every command at start-up).
"""

from __future__ import annotations

import argparse
import os
import sys

from tray_app import APP_NAME
from tray_app.errors import TrayAppError

EX_TEMPFAIL = 75  # sysexits.h: try again later (a login could not be renewed)
EX_CANNOT_RUN = 126  # as shells: COMMAND exists but cannot be run
EX_NOT_FOUND = 127  # as shells: no such COMMAND
DEFAULT_MIN = "60m"
TOKEN_HOURS = 12  # an ECR token's life: no renewal gives more
MAX_MIN_HOURS = 11  # a fresh token has just under 12 h: more would renew (and fail) every run
TAKES_COMMAND = True  # cli.py hands everything after `--` over as ``args.command_argv``

USAGE = ("%(prog)s [--min DURATION] [HOST ... | --all] [--profile P] [--no-kubernetes]"
         " [-- COMMAND [ARG ...]]")
EXAMPLES = """\
examples:
  ecr-token-tray ensure --min 2h -- docker compose run --rm integration-tests
  ecr-token-tray ensure 111122223333.dkr.ecr.eu-west-1.amazonaws.com -- docker buildx build --push .
  ecr-token-tray ensure --min 90m          (renew only; exit 0 or 75)

exit status: COMMAND's own; 75 when a login could not be renewed (COMMAND did not run);
2 for a mistake on the command line; 126/127 when COMMAND cannot be run / is not found.
A sign-in to AWS SSO opens the browser only when stdin is a terminal."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.usage = USAGE
    parser.epilog = EXAMPLES
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("hosts", nargs="*", metavar="HOST",
                        help="only these registries (host or https://host); a host with no"
                             " login yet is logged in with Docker")
    parser.add_argument("--all", action="store_true",
                        help="every ECR login found (the default when no HOST is given)")
    parser.add_argument("--min", metavar="DURATION", default=DEFAULT_MIN,
                        help="renew logins with less than this left: 90m, 2h, 1h30m, 45s"
                             f" (default {DEFAULT_MIN}, at most {MAX_MIN_HOURS}h)")
    parser.add_argument("--profile", metavar="P",
                        help="use this AWS profile for every registry (overrides the mapping)")
    parser.add_argument("--no-kubernetes", action="store_true",
                        help="leave the pull secrets of local Kubernetes clusters alone")
    parser.set_defaults(command_argv=[])


def run(args: argparse.Namespace) -> int:
    from tray_app.timeutil import parse_duration

    if args.hosts and args.all:
        raise TrayAppError("give either HOST arguments or --all, not both",
                           "see `ecr-token-tray ensure --help`")
    seconds = parse_duration(args.min)
    if seconds is None:
        raise TrayAppError(f"--min {args.min}: not a duration",
                           "write it like 90m, 2h, 1h30m or 45s")
    if seconds > MAX_MIN_HOURS * 3600:
        raise TrayAppError(f"--min {args.min}: a fresh ECR token lasts just under"
                           f" {TOKEN_HOURS} hours, so no login would have that much left",
                           f"use at most {MAX_MIN_HOURS}h")
    code = renew_short_logins(args, seconds)
    if code != 0 or not args.command_argv:
        return code
    return run_command(args.command_argv)


def renew_short_logins(args: argparse.Namespace, seconds: int) -> int:
    """0 when every selected login has ``seconds`` left (renewing those that had not); the
    work is the application layer's (tray_app.service.ensure), this renders it."""
    from tray_app.service.ensure import make_last, short_logins

    short = short_logins(args.hosts, seconds, kubernetes=not args.no_kubernetes)
    for problem in short.problems:
        _say(problem)  # an unreadable file: said, and the logins elsewhere still count
    if not short.rows:
        return 0
    from tray_app.logs import setup_logging
    from tray_app.settings import Paths

    setup_logging(Paths.from_env().log_dir, getattr(args, "debug", False))
    ensured = make_last(short.rows, seconds, wanted=args.min, profile=args.profile,
                        kubernetes=not args.no_kubernetes, interactive=_stdin_is_terminal(),
                        progress=lambda text: _say(f"... {text}"))
    for line in ensured.lines:
        _say(line)
    if not ensured.ok:
        _say(f"not running the command: a login above would not last {args.min}")
        return EX_TEMPFAIL
    return 0


def run_command(argv: list[str]) -> int:
    """Become COMMAND (POSIX exec: same pid, stdin, stdout, signals); on Windows, which
    has no exec, run it and pass its exit status on."""
    sys.stdout.flush()
    sys.stderr.flush()
    if os.name != "posix":
        return _run_child(argv)
    try:
        os.execvp(argv[0], argv)
    except FileNotFoundError:
        _say(f"{argv[0]}: command not found - check its name and PATH")
        return EX_NOT_FOUND
    except OSError as error:
        _say(f"{argv[0]}: cannot run it ({error.strerror})")
        return EX_CANNOT_RUN
    return EX_CANNOT_RUN  # not reached: exec does not return


def _run_child(argv: list[str]) -> int:
    """Windows: the console sends Ctrl+C to COMMAND too; we wait and return its status."""
    import signal
    import subprocess

    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # COMMAND decides about Ctrl+C
    try:
        return subprocess.run(argv).returncode
    except FileNotFoundError:
        _say(f"{argv[0]}: command not found - check its name and PATH")
        return EX_NOT_FOUND
    except OSError as error:
        _say(f"{argv[0]}: cannot run it ({error.strerror})")
        return EX_CANNOT_RUN
    finally:
        signal.signal(signal.SIGINT, previous)


def _stdin_is_terminal() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except ValueError:  # stdin closed
        return False


def _say(text: str) -> None:
    print(f"{APP_NAME}: {text}", file=sys.stderr, flush=True)
