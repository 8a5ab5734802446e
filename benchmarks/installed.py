"""The app as users install it: a wheel built from this tree, in a fresh plain venv.

A floor measured in the development venv is wrong: its editable install adds a finder
and ``.pth`` hooks that make ``python -c pass`` itself slower (30 ms against 9 ms), which
flatters every ratio. Here both the app and the floor run from the same fresh venv.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common import REPO_ROOT


@dataclass(frozen=True)
class InstalledApp:
    venv: Path
    with_dependencies: bool  # False: pip could not fetch them (offline); status needs none

    @property
    def python(self) -> str:
        return str(self.venv / "bin" / "python")

    @property
    def script(self) -> str:
        """The console script pip wrote; run directly, as a shell runs it (shebang)."""
        return str(self.venv / "bin" / "ecr-token-tray")


def install_wheel(workdir: Path, with_dependencies: bool = True) -> InstalledApp:
    """Build the wheel, make a fresh venv with the base interpreter, pip-install into it."""
    wheels = workdir / "wheel"
    _pip(sys.executable, "wheel", "--no-deps", "--wheel-dir", str(wheels), str(REPO_ROOT))
    (wheel,) = wheels.glob("ecr_token_tray-*.whl")
    venv = workdir / "fresh-venv"
    subprocess.run([_base_python(), "-m", "venv", str(venv)], check=True, capture_output=True)
    python = str(venv / "bin" / "python")
    if with_dependencies:
        try:
            _pip(python, "install", str(wheel))
            return InstalledApp(venv, True)
        except subprocess.CalledProcessError:
            pass  # offline: the status path imports none of them
    _pip(python, "install", "--no-deps", str(wheel))
    return InstalledApp(venv, False)


def plain_env(base: dict[str, str]) -> dict[str, str]:
    """What a user's shell gives the app: no PYTHONPATH into this tree, bytecode as pip
    compiled it at install time."""
    env = {k: v for k, v in base.items()
           if not k.startswith("PYTHON") and k not in ("VIRTUAL_ENV", "PIP_REQUIRE_VIRTUALENV")}
    return env


def _base_python() -> str:
    """The interpreter this venv (if any) was made from, as `python3 -m venv` would use."""
    return getattr(sys, "_base_executable", sys.executable)


def _pip(python: str, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    subprocess.run([python, "-m", "pip", "-q", "--disable-pip-version-check", *args],
                   check=True, capture_output=True, env=env, timeout=900)
