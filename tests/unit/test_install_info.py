"""install_info: how this copy was installed, read from the marks pipx, uv and the Linux
installer leave (files written here in those tools' own formats)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tray_app.install_info import GTK_APT_PACKAGES, detect


def venv(tmp_path: Path, name: str, system_site: bool = False) -> Path:
    """A real venv (python -m venv), with or without the system site-packages."""
    prefix = tmp_path / name
    args = [sys.executable, "-m", "venv", "--without-pip", str(prefix)]
    if system_site:
        args.insert(-1, "--system-site-packages")
    subprocess.run(args, check=True, timeout=120)
    return prefix


def test_the_linux_installers_venv_names_its_uninstaller(tmp_path):
    app_dir = tmp_path / "share" / "ecr-token-tray"
    app_dir.mkdir(parents=True)
    prefix = venv(app_dir, "venv", system_site=True)
    (app_dir / "uninstall.sh").write_text("#!/bin/sh\n")
    found = detect(prefix, base_prefix=Path(sys.base_prefix))
    assert found.kind == "installer"
    assert found.uninstall_command == str(app_dir / "uninstall.sh")
    assert found.menu_fix_command() == f"sudo apt install {GTK_APT_PACKAGES}"


def test_pipx_gives_the_reinstall_with_system_site_packages(tmp_path):
    prefix = venv(tmp_path, "ecr-token-tray")
    (prefix / "pipx_metadata.json").write_text(json.dumps({
        "main_package": {"package": "ecr-token-tray", "package_or_url": "/src/my clone",
                         "pip_args": []}, "pipx_metadata_version": "0.12"}))
    found = detect(prefix, base_prefix=Path(sys.base_prefix))
    assert (found.kind, found.source) == ("pipx", "/src/my clone")
    assert found.uninstall_command == (
        "ecr-token-tray autostart disable; pipx uninstall ecr-token-tray")
    assert found.menu_fix_command() == (
        f"sudo apt install {GTK_APT_PACKAGES} && pipx install --force --system-site-packages"
        " --python /usr/bin/python3 '/src/my clone'")


def test_pipx_with_system_site_packages_needs_only_apt(tmp_path):
    prefix = venv(tmp_path, "ecr-token-tray", system_site=True)
    (prefix / "pipx_metadata.json").write_text(json.dumps(
        {"main_package": {"package_or_url": "/src"}}))
    assert detect(prefix, base_prefix=Path(sys.base_prefix)).menu_fix_command() == (
        f"sudo apt install {GTK_APT_PACKAGES}")


def test_a_uv_tool_moves_to_pipx_for_the_menu(tmp_path):
    prefix = venv(tmp_path, "ecr-token-tray")
    (prefix / "uv-receipt.toml").write_text(
        '[tool]\nrequirements = [{ name = "ecr-token-tray", directory = "/src" }]\n')
    found = detect(prefix, base_prefix=Path(sys.base_prefix))
    assert (found.kind, found.source) == ("uv", "/src")
    assert found.uninstall_command == (
        "ecr-token-tray autostart disable; uv tool uninstall ecr-token-tray")
    assert "uv tool uninstall ecr-token-tray && pipx install --force --system-site-packages" \
        in found.menu_fix_command()


def test_damaged_marks_still_give_the_kind(tmp_path):
    prefix = venv(tmp_path, "x")
    (prefix / "pipx_metadata.json").write_text("{not json")
    found = detect(prefix, base_prefix=Path(sys.base_prefix))
    assert (found.kind, found.source) == ("pipx", "")
    assert found.menu_fix_command().endswith("--python /usr/bin/python3 ecr-token-tray")


@pytest.mark.parametrize("receipt", ['tool = "x"\n', '[tool]\nrequirements = 3\n',
                                     '[tool]\nrequirements = ["x", 1]\n'])
def test_a_uv_receipt_of_the_wrong_shape_still_gives_the_kind(tmp_path, receipt):
    prefix = venv(tmp_path, "uv-odd")
    (prefix / "uv-receipt.toml").write_text(receipt)
    found = detect(prefix, base_prefix=Path(sys.base_prefix))
    assert (found.kind, found.source) == ("uv", "")


def test_a_plain_venv_and_the_system(tmp_path):
    prefix = venv(tmp_path, "plain")
    assert detect(prefix, base_prefix=Path(sys.base_prefix)).kind == "venv"
    assert "pip install 'pygobject<3.51'" in detect(
        prefix, base_prefix=Path(sys.base_prefix)).menu_fix_command()
    system = detect(Path(sys.base_prefix), base_prefix=Path(sys.base_prefix))
    assert system.kind == "system"
