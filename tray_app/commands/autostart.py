"""`ecr-token-tray autostart`: not built yet (see the README's status section)."""

from __future__ import annotations

import argparse

from tray_app.errors import TrayAppError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    raise TrayAppError("`autostart` is not built yet", "use `ecr-token-tray status`")
