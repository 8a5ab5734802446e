"""`ecr-token-tray watch`: the tray's loop in a terminal (SSH dev boxes, desktops without a tray).

A live table (the `status` table, redrawn on every change and at least every minute),
notifications (printed, and sent to the desktop when there is one) and automatic renewal.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

from tray_app import APP_NAME
from tray_app.logs import setup_logging
from tray_app.settings import Paths

CLEAR = "\x1b[H\x1b[2J"
WATCH_ACTION = f"run `{APP_NAME} login`"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--once", action="store_true",
                        help="one pass: print the table, send due alerts, renew, then exit")
    parser.add_argument("--interval", type=int, default=60, metavar="SECONDS",
                        help="re-read everything at least this often (default 60; files are"
                             " checked for changes every second)")
    parser.add_argument("--no-notify", action="store_true",
                        help="print alerts only; do not send desktop notifications")


def run(args: argparse.Namespace) -> int:
    from tray_app.render import render_table
    from tray_app.ui.loop import LoopView, TrayLoop
    from tray_app.ui.notify import DesktopNotifier, TerminalNotifier, desktop_session_available

    paths = Paths.from_env()
    setup_logging(paths.log_dir, debug=getattr(args, "debug", False))
    interactive = sys.stdout.isatty()

    def write(text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    desktop = None
    if not args.no_notify and desktop_session_available():
        desktop = DesktopNotifier()
    live = interactive and not args.once  # a redrawn screen: alerts are kept under the table
    notifier = TerminalNotifier(desktop, None if live else write,
                                clock=(lambda: datetime.now().strftime("%H:%M")) if live else None)

    latest: list[LoopView] = []

    def show(view: LoopView) -> None:
        if args.once:  # print the final state only
            latest[:] = [view]
            return
        print_view(view)

    def print_view(view: LoopView) -> None:
        if view.snapshot is None:
            return
        lines = [render_table(view.snapshot), ""]
        if live:
            lines += [block.rstrip("\n") for block in notifier.recent]
        if view.busy:
            lines.append(view.busy)
        for problem in view.snapshot.errors:
            lines.append(f"{APP_NAME}: {problem.message}")
        if view.settings_problem:
            lines.append(f"{APP_NAME}: {view.settings_problem}")
        auto = "on" if view.auto_renew else "off"
        stamp = datetime.now().astimezone().strftime("%H:%M:%S")
        footer = f"updated {stamp} - automatic renewal {auto}"
        lines.append(footer if args.once else footer + " - Ctrl-C to quit")
        write((CLEAR if live else "") + "\n".join(lines) + "\n")

    interval = max(args.interval, 1)
    loop = TrayLoop(paths, notifier, on_view=show, full_every=interval, action=WATCH_ACTION)
    try:
        if args.once:
            loop.step()
            loop.join_worker(timeout=900)  # an automatic renewal this pass started
            loop.step()  # recomputes only when that renewal finished (it nudges)
            if latest:
                print_view(latest[-1])
            return 0
        loop.run()
    except KeyboardInterrupt:
        loop.stop()
        write("\n")
    return 0
