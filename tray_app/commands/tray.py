"""`ecr-token-tray tray` (also a bare `ecr-token-tray`): the tray icon."""

from __future__ import annotations

import argparse
import logging

from tray_app import APP_NAME
from tray_app.errors import TrayAppError
from tray_app.logs import setup_logging
from tray_app.settings import Paths


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--wait-for-tray", type=float, default=15.0, metavar="SECONDS",
                        help="how long to wait for the panel's system tray at start"
                             " (default 15)")
    # The front end: see tray_app.ui.backend (PYSTRAY_BACKEND / [tray] backend force one).


def run(args: argparse.Namespace) -> int:
    from tray_app.ui.backend import require_desktop
    from tray_app.ui.instance import SingleInstance, lock_path

    require_desktop()  # one clear line, before any GUI import
    paths = Paths.from_env()
    instance = SingleInstance(lock_path(paths))
    if not instance.acquire():
        pid = instance.holder_pid()
        print(f"{APP_NAME}: the tray is already running" + (f" (pid {pid})" if pid else ""))
        return 0
    try:
        setup_logging(paths.log_dir, debug=getattr(args, "debug", False))
        from tray_app.ui.tray import choose_backend  # after the log: its failures land there

        return _run_front_end(paths, choose_backend(paths, getattr(args, "wait_for_tray", 15.0)))
    except TrayAppError as error:
        logging.getLogger(__name__).error("the tray stopped: %s", error)
        raise
    except Exception:
        # A windowed bundle (Windows, macOS) has no terminal: the log is where a user or a
        # bug report finds why the tray is gone. (TrayAppError is a line the CLI prints.)
        logging.getLogger(__name__).exception("the tray stopped on an unexpected error")
        raise
    finally:
        instance.release()


def _run_front_end(paths: Paths, choice) -> int:
    if choice.backend == "native":
        from tray_app.ui.freedesktop.app import NativeTray
        return NativeTray(paths).run()
    from tray_app.ui.tray import TrayApp
    return TrayApp(paths, choice.backend).run()
