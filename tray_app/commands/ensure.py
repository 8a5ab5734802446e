"""``ecr-token-tray ensure [--min DURATION] [HOST... | --all] [-- COMMAND ...]``.

Renews every selected login (Docker, Podman, Helm, Kubernetes pull secrets) that has less
than DURATION left, then runs COMMAND in its place (exec: same process, stdin, stdout and
signals; no shell) so its exit status is ours. A login that cannot be renewed stops it
there: COMMAND does not run, exit 75 (EX_TEMPFAIL) with one line per registry naming the
fix. Local files tell the expiries: when every login has time, nothing talks to AWS.

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
    """0 when every selected login has ``seconds`` left (renewing those that had not)."""
    from tray_app.renew.plan import short_of_time

    snapshot, settings_problem = _snapshot(kubernetes=not args.no_kubernetes)
    for problem in ([settings_problem] if settings_problem else []) + \
            [p.message for p in snapshot.errors]:
        _say(problem)  # an unreadable file: said, and the logins elsewhere still count
    rows = _selected(snapshot, args.hosts)
    short = short_of_time(rows, seconds, snapshot.sso_sessions)
    if not short:
        return 0
    return _renew(short, args, seconds)


def _renew(rows, args: argparse.Namespace, seconds: int) -> int:
    from tray_app.logs import setup_logging
    from tray_app.renew.engine import LoginOptions, renew
    from tray_app.settings import Paths

    setup_logging(Paths.from_env().log_dir, getattr(args, "debug", False))
    interactive = _stdin_is_terminal()
    options = LoginOptions(profile=args.profile, allow_browser=interactive)
    report = renew(rows, options, progress=lambda text: _say(f"... {text}"))
    after, _ = _snapshot(kubernetes=not args.no_kubernetes)  # also rewrites the summary
    failed = False
    for outcome in report.outcomes:
        if outcome.result == "refreshed" and outcome.verified:
            _say(outcome.message)
            continue
        failed = True
        line = outcome.message
        if outcome.result == "skipped" and not interactive:
            line += " (stdin is not a terminal, so no browser was opened)"
        _say(line)
    for line in _still_short(after, report, seconds, args.min):
        failed = True
        _say(line)
    if failed:
        _say(f"not running the command: a login above would not last {args.min}")
        return EX_TEMPFAIL
    return 0


def _still_short(after, report, seconds: int, wanted: str) -> list[str]:
    """Renewed logins that still end within ``wanted``: an ecr-login registry whose new SSO
    session is shorter than asked. One line each, naming what ends."""
    from tray_app.renew.plan import known_short_of_time
    from tray_app.timeutil import format_time_left

    renewed = {o.identity for o in report.outcomes if o.result == "refreshed" and o.verified}
    rows = [row for row in after.registries if row.identity in renewed]
    lines = []
    for row in known_short_of_time(rows, seconds, after.sso_sessions):
        what = row.credentials_from if row.managed and row.credentials_from else "it"
        lines.append(f"{row.registry.label} ({row.where}): renewed, but {what} ends in"
                     f" {format_time_left(row.watched_seconds_left)}, less than --min {wanted}"
                     " - sign in again later, or ask for less")
    return lines


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


def _selected(snapshot, hosts: list[str]) -> list:
    """The rows to look at: every login, or those of HOSTs (a HOST with none yet gets a new
    Docker login). A HOST that is not an ECR registry is a usage mistake."""
    from tray_app.hosts import host_of, parse_registry

    if not hosts:
        return list(snapshot.registries)
    rows = []
    for text in hosts:
        registry = parse_registry(host_of(text))
        if registry is None:
            raise TrayAppError(f"{text}: not an Amazon ECR registry host",
                               "expected e.g. 123456789012.dkr.ecr.us-west-2.amazonaws.com"
                               " or public.ecr.aws")
        matching = [r for r in snapshot.registries if r.host == registry.host]
        rows += [r for r in matching if r not in rows] or [_new_login(registry, snapshot)]
    return rows


def _new_login(registry, snapshot):
    """A registry with no login yet: Docker gets one (unless its store cannot hold it)."""
    from tray_app.credhelper import new_docker_login_row

    return new_docker_login_row(registry, snapshot)


def _snapshot(kubernetes: bool):
    """Every login on the machine (local files; the clusters' secrets unless left out),
    and what was wrong with config.toml (the application layer also rewrites the prompt
    summary when the snapshot covered every login)."""
    from tray_app.service.snapshots import take

    taken = take(kubernetes=kubernetes)
    return taken.snapshot, taken.settings_problem


def _stdin_is_terminal() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except ValueError:  # stdin closed
        return False


def _say(text: str) -> None:
    print(f"{APP_NAME}: {text}", file=sys.stderr, flush=True)
