"""The wheel as users get it: built from a copy of the source, installed into a fresh plain
venv (no system site-packages), with real pipx and real uv (the test extra installs both),
and the CLI run from each in a temporary HOME.

Installing needs the package index (boto3, Pillow, pystray...), as every user install does.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.builders import REPO_ROOT, docker_auth, host
from tray_app import __version__

REGISTRY = host("222222222222", "eu-central-1")
SYSTEM_PYTHON = "/usr/bin/python3"
TOOLS = Path(sys.executable).parent  # pipx and uv from the test extra


@pytest.fixture(scope="session")
def wheel(tmp_path_factory) -> Path:
    """`pip wheel` of a copy of the files the build reads (the checkout stays clean)."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "DESCRIPTION.md", "LICENSE"):
        shutil.copy2(REPO_ROOT / name, source / name)
    shutil.copytree(REPO_ROOT / "tray_app", source / "tray_app",
                    ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("dist")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                            str(out), str(source)], capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr
    (found,) = out.glob("*.whl")
    return found


def user_env(home, **extra: str) -> dict[str, str]:
    env = home.full_env(**extra)
    for name in ("VIRTUAL_ENV", "PYTHONPATH", "DISPLAY", "WAYLAND_DISPLAY", "PIPX_HOME",
                 "PIPX_BIN_DIR", "UV_TOOL_DIR", "UV_TOOL_BIN_DIR"):
        env.pop(name, None)
    return env


def run(argv: list[str | Path], env: dict[str, str], timeout: float = 600):
    return subprocess.run([str(arg) for arg in argv], env=env, capture_output=True, text=True,
                          timeout=timeout, cwd=env["HOME"])


def check_the_cli(program: Path, home, installed_by: str, uninstall: str) -> None:
    env = user_env(home)
    version = run([program, "--version"], env)
    assert (version.returncode, version.stdout) == (0, f"ecr-token-tray {__version__}\n")

    status = run([program, "status", "--json"], env)
    assert status.returncode == 0, status.stderr
    document = json.loads(status.stdout)
    assert [(r["host"], r["state"]) for r in document["registries"]] == [(REGISTRY, "ok")]

    doctor = run([program, "doctor"], env)
    assert doctor.returncode in (0, 1), doctor.stderr  # 1: a tool this machine lacks
    assert "Traceback" not in doctor.stdout + doctor.stderr
    (installation,) = [line for line in doctor.stdout.splitlines() if " installation " in line]
    assert f"installed by {installed_by} in " in installation
    assert installation.endswith(f"uninstall: {uninstall}")


def test_the_wheel_holds_the_license_and_the_short_description(wheel):
    assert wheel.name == f"ecr_token_tray-{__version__}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        info = f"ecr_token_tray-{__version__}.dist-info"
        assert archive.read(f"{info}/licenses/LICENSE") == (REPO_ROOT / "LICENSE").read_bytes()
        metadata = archive.read(f"{info}/METADATA").decode()
    headers, _, description = metadata.partition("\n\n")
    assert "License-Expression: MIT" in headers.splitlines()
    assert "Description-Content-Type: text/markdown" in headers.splitlines()
    assert "Classifier: Operating System :: POSIX :: Linux" in headers.splitlines()
    assert description.strip() == (REPO_ROOT / "DESCRIPTION.md").read_text().strip()
    assert len(description) < 4000  # the user's page, not the 50 KB developer README
    assert not [name for name in names if name.startswith(("tests/", "benchmarks/"))]


def test_a_plain_venv(wheel, home, tmp_path):
    home.docker_config({REGISTRY: {"auth": docker_auth(300)}})
    venv = tmp_path / "venv"
    subprocess.run([SYSTEM_PYTHON, "-m", "venv", str(venv)], check=True, timeout=120)
    installed = run([venv / "bin" / "python", "-m", "pip", "install", "-q", wheel],
                    user_env(home))
    assert installed.returncode == 0, installed.stderr
    check_the_cli(venv / "bin" / "ecr-token-tray", home, "pip in a venv",
                  f"ecr-token-tray autostart disable; {venv}/bin/python -m pip uninstall"
                  " ecr-token-tray")


def test_pipx(wheel, home):
    home.docker_config({REGISTRY: {"auth": docker_auth(300)}})
    env = user_env(home)
    installed = run([TOOLS / "pipx", "install", "--python", SYSTEM_PYTHON, wheel], env)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    program = home.root / ".local" / "bin" / "ecr-token-tray"
    check_the_cli(program, home, "pipx",
                  "ecr-token-tray autostart disable; pipx uninstall ecr-token-tray")
    removed = run([TOOLS / "pipx", "uninstall", "ecr-token-tray"], env)
    assert removed.returncode == 0, removed.stderr
    assert not os.path.lexists(program)


def test_uv_tool(wheel, home):
    home.docker_config({REGISTRY: {"auth": docker_auth(300)}})
    env = user_env(home)
    installed = run([TOOLS / "uv", "tool", "install", "--python", SYSTEM_PYTHON, wheel], env)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    program = home.root / ".local" / "bin" / "ecr-token-tray"
    check_the_cli(program, home, "uv tool",
                  "ecr-token-tray autostart disable; uv tool uninstall ecr-token-tray")
    removed = run([TOOLS / "uv", "tool", "uninstall", "ecr-token-tray"], env)
    assert removed.returncode == 0, removed.stderr
    assert not os.path.lexists(program)
