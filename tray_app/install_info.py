"""How this copy of the app was installed, so messages can give commands that fit it.

Read from marks the installers leave next to the running interpreter: the Linux installer's
``uninstall.sh`` beside its venv, pipx's ``pipx_metadata.json`` and uv's ``uv-receipt.toml``
inside theirs, PyInstaller's ``sys.frozen``. Only reads; light imports (``--help`` uses it).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

from tray_app import APP_NAME
from tray_app.platforms import command_line, is_windows, one_after_another, quote

# What the XEmbed tray (pystray gtk) needs from Debian/Ubuntu (pip cannot install GTK).
GTK_APT_PACKAGES = "python3-gi gir1.2-gtk-3.0"
SYSTEM_PYTHON = "/usr/bin/python3"


@dataclass(frozen=True)
class Installation:
    """kind: installer | pipx | uv | bundle | venv | system."""

    kind: str
    prefix: Path
    source: str = ""                  # what pipx/uv installed from (a path, wheel or name)
    sees_system_packages: bool = False

    @property
    def uninstall_command(self) -> str:
        return self.uninstall_command_on()

    def uninstall_command_on(self, platform: str | None = None,
                             python: str | None = None) -> str:
        """The commands that remove this copy, spelled for the OS's shell (cmd.exe on
        Windows: double quotes where a space needs them, no ``;``)."""
        python = python or sys.executable
        if self.kind == "installer":
            return quote(str(self.prefix.parent / "uninstall.sh"), platform)
        if self.kind == "bundle":
            cli = (command_line([str(_bundle_cli(self.prefix))], platform) if is_windows(platform)
                   else APP_NAME)
            return f"{cli} autostart disable, then delete {self.prefix}"
        # On Windows a pip install's script folder is rarely on PATH: name the interpreter.
        app = (f"{command_line([python], platform)} -m tray_app" if is_windows(platform)
               else APP_NAME)
        if self.kind in ("pipx", "uv"):
            tool = "pipx uninstall" if self.kind == "pipx" else "uv tool uninstall"
            return one_after_another([f"{APP_NAME} autostart disable", f"{tool} {APP_NAME}"],
                                     platform)
        return one_after_another([f"{app} autostart disable",
                                  f"{command_line([python], platform)} -m pip uninstall"
                                  f" {APP_NAME}"], platform)

    def menu_fix_command(self) -> str:
        """The exact command that gives the Linux tray (XEmbed/GTK backend) its menu."""
        apt = f"sudo apt install {GTK_APT_PACKAGES}"
        source = quote(self.source or APP_NAME, "linux")  # a Linux-only hint
        pipx = (f"pipx install --force --system-site-packages --python {SYSTEM_PYTHON}"
                f" {source}")
        if self.kind == "installer" or (self.kind in ("pipx", "system")
                                        and self.sees_system_packages):
            return apt
        if self.kind == "pipx":
            return f"{apt} && {pipx}"
        if self.kind == "uv":  # uv tools cannot see the system's PyGObject
            return f"{apt} && uv tool uninstall {APP_NAME} && {pipx}"
        if self.sees_system_packages:
            return apt
        return (f"{apt}, then recreate this venv with --system-site-packages, or"
                f" `pip install 'pygobject<3.51'` into it (needs libgirepository1.0-dev"
                " libcairo2-dev)")


def current() -> Installation:
    return detect(Path(sys.prefix), frozen=bool(getattr(sys, "frozen", False)),
                  base_prefix=Path(sys.base_prefix))


def detect(prefix: Path, frozen: bool = False, base_prefix: Path | None = None) -> Installation:
    if frozen:
        return Installation("bundle", Path(sys.executable).parent)
    sees_system = _sees_system_packages(prefix)
    if prefix.name == "venv" and (prefix.parent / "uninstall.sh").is_file():
        return Installation("installer", prefix, sees_system_packages=sees_system)
    pipx_source = _pipx_source(prefix / "pipx_metadata.json")
    if pipx_source is not None:
        return Installation("pipx", prefix, pipx_source, sees_system)
    uv_source = _uv_source(prefix / "uv-receipt.toml")
    if uv_source is not None:
        return Installation("uv", prefix, uv_source, sees_system)
    if base_prefix is not None and prefix != base_prefix:
        return Installation("venv", prefix, sees_system_packages=sees_system)
    return Installation("system", prefix, sees_system_packages=True)


def _sees_system_packages(prefix: Path) -> bool:
    try:
        lines = (prefix / "pyvenv.cfg").read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return False
    for line in lines:
        key, _, value = line.partition("=")
        if key.strip() == "include-system-site-packages":
            return value.strip().lower() == "true"
    return False


def _pipx_source(metadata: Path) -> str | None:
    try:
        document = json.loads(metadata.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return ""
    main = document.get("main_package") if isinstance(document, dict) else None
    source = main.get("package_or_url") if isinstance(main, dict) else None
    return source if isinstance(source, str) else ""


def _uv_source(receipt: Path) -> str | None:
    import tomllib

    try:
        document = tomllib.loads(receipt.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return ""
    tool = document.get("tool")
    requirements = tool.get("requirements") if isinstance(tool, dict) else None
    for requirement in requirements if isinstance(requirements, list) else []:
        if isinstance(requirement, dict) and requirement.get("name") == APP_NAME:
            for key in ("directory", "path", "url", "git"):
                if isinstance(requirement.get(key), str):
                    return requirement[key]
            return APP_NAME
    return ""


def _bundle_cli(folder: Path) -> Path:
    """The Windows bundle's console program (the windowed one prints nothing)."""
    return folder / f"{APP_NAME}-cli.exe"
