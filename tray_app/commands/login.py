"""``ecr-token-tray login``: log in again to ECR registries, AWS SSO included.

Module level stays light (cli.py imports every command at start-up); the engine, and
boto3 behind it, load only when the command runs.
"""

from __future__ import annotations

import argparse
import sys

from tray_app import APP_NAME
from tray_app.errors import TrayAppError
from tray_app.hosts import host_of, parse_registry
from tray_app.model import RegistryStatus, Snapshot

EXIT_OK = 0
EXIT_NOT_ALL_WORKING = 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("hosts", nargs="*", metavar="HOST",
                        help="registry host (or https://host) to log in to; a host not logged"
                             " in yet is logged in with Docker")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--all", action="store_true", help="every ECR registry found")
    which.add_argument("--expiring", action="store_true",
                       help="registries in warning, critical or expired state (the default"
                            " when no HOST is given)")
    parser.add_argument("--profile", metavar="P",
                        help="use this AWS profile for every registry (overrides the mapping)")
    parser.add_argument("--no-browser", action="store_true",
                        help="pass --no-browser to `aws sso login` (print the URL and code)")
    parser.add_argument("--no-kubernetes", action="store_true",
                        help="leave the pull secrets of local Kubernetes clusters alone")


def run(args: argparse.Namespace) -> int:
    from tray_app.logs import setup_logging
    from tray_app.renew.engine import LoginOptions, renew
    from tray_app.service.snapshots import take
    from tray_app.settings import Paths

    if args.hosts and (args.all or args.expiring):
        raise TrayAppError("give either HOST arguments or --all/--expiring, not both",
                           "see `ecr-token-tray login --help`")
    paths = Paths.from_env()
    setup_logging(paths.log_dir, getattr(args, "debug", False))
    taken = take(paths, kubernetes=not args.no_kubernetes)
    snapshot = taken.snapshot
    if taken.settings_problem:
        print(f"{APP_NAME}: {taken.settings_problem}", file=sys.stderr)
    rows, unknown = select_rows(snapshot, args)
    for text in unknown:
        print(f"failed    {text}")
    if not rows:
        if not unknown:
            print(_nothing_to_do(args))
        return EXIT_NOT_ALL_WORKING if unknown else EXIT_OK
    options = LoginOptions(profile=args.profile, no_browser=args.no_browser)
    report = renew(rows, options, progress=lambda text: print(f"... {text}", file=sys.stderr,
                                                               flush=True))
    take(paths, kubernetes=not args.no_kubernetes)  # the prompt summary, after the renewal
    for outcome in report.outcomes:
        print(f"{outcome.result:<9} {outcome.message}")
    working = sum(1 for o in report.outcomes if o.result == "refreshed" and o.verified)
    print(f"{working} of {len(report.outcomes) + len(unknown)} registries hold a working login.")
    return EXIT_OK if report.ok and not unknown else EXIT_NOT_ALL_WORKING


def select_rows(snapshot: Snapshot, args: argparse.Namespace
                ) -> tuple[list[RegistryStatus], list[str]]:
    """The rows asked for, and one line for each HOST that is not an ECR registry."""
    if args.all:
        return list(snapshot.registries), []
    if not args.hosts:
        return [r for r in snapshot.registries if r.state.due_for_renewal], []
    rows: list[RegistryStatus] = []
    unknown: list[str] = []
    for text in args.hosts:
        host = host_of(text)
        matching = [r for r in snapshot.registries if r.host == host]
        if matching and all(r.kubernetes is not None for r in matching):
            matching.append(_new_row(parse_registry(host), snapshot))  # Docker's login too
        if matching:
            rows += [r for r in matching if r not in rows]
            continue
        registry = parse_registry(host)
        if registry is None:
            unknown.append(f"{text}: not an Amazon ECR registry host - expected e.g."
                           " 123456789012.dkr.ecr.us-west-2.amazonaws.com or public.ecr.aws")
            continue
        rows.append(_new_row(registry, snapshot))
    return rows, unknown


def _new_row(registry, snapshot: Snapshot) -> RegistryStatus:
    """A registry this machine holds no login for yet: Docker stores it."""
    from tray_app.credhelper import new_docker_login_row

    return new_docker_login_row(registry, snapshot)


def _nothing_to_do(args: argparse.Namespace) -> str:
    if args.all:
        return "No ECR logins found (Docker config, credential helpers, Podman, Helm); name a HOST."
    return ("Nothing to refresh: no login is in warning, critical or expired state"
            " (use --all or name a HOST).")
