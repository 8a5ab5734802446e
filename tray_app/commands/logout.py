"""``ecr-token-tray logout HOST... | --expired-public``.

Removes a login the way `docker logout` does (through its credential store) from Docker's
config.json, Podman's auth files and Helm's registry config; the work is
tray_app/service/logout.py (a transaction: on failure nothing changed).
``--expired-public``: public.ecr.aws wherever its login is expired or ends within the
warning threshold (anonymous pulls work without a login, an expired one makes them fail).
Module level stays light: cli.py imports it at start-up.
"""

from __future__ import annotations

import argparse

from tray_app import APP_NAME
from tray_app.errors import TrayAppError

EXIT_NOTHING_TO_DO = 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("hosts", nargs="*", metavar="HOST",
                        help="registry host (or https://host), as `status` shows it")
    parser.add_argument("--expired-public", action="store_true",
                        help="log out of public.ecr.aws wherever its login is expired or ends"
                             " within the warning threshold (anonymous pulls work then)")


def run(args: argparse.Namespace) -> int:
    from tray_app.logs import setup_logging
    from tray_app.settings import Paths

    if bool(args.hosts) == bool(args.expired_public):
        raise TrayAppError("logout: name a HOST or use --expired-public (not both)",
                           "see `ecr-token-tray logout --help`")
    paths = Paths.from_env()
    setup_logging(paths.log_dir, getattr(args, "debug", False))
    if args.expired_public:
        return _expired_public(paths)
    from tray_app.service.logout import logout

    results, skipped = logout(paths, args.hosts)
    _print(results, skipped)
    return 0


def _expired_public(paths) -> int:
    from tray_app.service.logout import logout_stale_public
    from tray_app.service.snapshots import take

    snapshot = take(paths, kubernetes=False).snapshot
    results = logout_stale_public(paths, snapshot)
    if not results:
        print(f"{APP_NAME}: no expired or expiring public.ecr.aws login; nothing to do")
        return EXIT_NOTHING_TO_DO
    _print(results, ())
    print("anonymous pulls from public.ecr.aws work again")
    return 0


def _print(results, skipped) -> None:
    for result in results:
        print(result.message)
    for line in skipped:
        print(f"left alone: {line}")
