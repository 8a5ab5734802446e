"""What the three PyInstaller specs share: paths, version, hidden imports.

The specs import this module (they add their own folder to sys.path). PyInstaller cannot
see modules imported by name at run time, so they are listed here: every subcommand
(``tray_app.cli`` imports ``tray_app.commands.<name>`` with importlib), the pystray backend
and plyer notification module of the target OS (both chosen at run time).
"""

from __future__ import annotations

import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
ASSETS = REPO / "assets"
ENTRY = str(HERE / "entry.py")
APP_NAME = "ecr-token-tray"
BUNDLE_ID = "io.github.ecr-token-tray"

PLATFORM_MODULES = {
    "linux": ["pystray._appindicator", "pystray._gtk", "pystray._xorg",
              "plyer.platforms.linux.notification"],
    "windows": ["pystray._win32", "plyer.platforms.win.notification",
                "plyer.platforms.win.libs.balloontip"],
    "macos": ["pystray._darwin", "plyer.platforms.macosx.notification"],
}
# Never needed at run time; keeps the bundle smaller.
EXCLUDES = ["tkinter", "pytest", "hypothesis", "ruff", "PyInstaller"]


def version() -> str:
    text = (REPO / "tray_app" / "__init__.py").read_text(encoding="utf-8")
    return re.search(r'__version__ = "([^"]+)"', text).group(1)


def hidden_imports(target: str) -> list[str]:
    from PyInstaller.utils.hooks import collect_submodules

    return sorted({*collect_submodules("tray_app"), *PLATFORM_MODULES[target]})


def analysis_options(target: str) -> dict:
    return {
        "pathex": [str(REPO)],
        "hiddenimports": hidden_imports(target),
        "excludes": EXCLUDES,
        "datas": [(str(ASSETS / "hicolor"), "assets/hicolor")],
        "noarchive": False,
    }
