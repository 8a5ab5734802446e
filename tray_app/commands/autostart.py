"""``ecr-token-tray autostart enable|disable|status``: start the tray at login, or not.

The tray's "Start at login" menu item calls the same functions (tray_app.autostart).
Exit codes: 0 done / enabled; 1 (status only) disabled or the entry is broken; 2 the entry
could not be written or removed (one line says which file and what to do).
"""

from __future__ import annotations

import argparse

EXIT_NOT_ENABLED = 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", nargs="?", choices=["enable", "disable", "status"],
                        default="status",
                        help="enable: start the tray at every login; disable: stop that;"
                             " status (default): show the entry (exit 1 when not enabled)")


def run(args: argparse.Namespace) -> int:
    from tray_app import autostart

    if args.action == "enable":
        print(autostart.enable())
        return 0
    if args.action == "disable":
        print(autostart.disable())
        return 0
    current = autostart.status()
    print(current.describe())
    return 0 if current.enabled and not current.problem else EXIT_NOT_ENABLED
