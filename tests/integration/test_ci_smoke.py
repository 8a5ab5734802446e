"""The workflow's smoke run (.ci/smoke.py), run here as the Linux job runs it: in Xvfb with
trayer as the tray host, with the `ecr-token-tray` command of this venv. (GitHub's macOS and
Windows runners run the same script directly; that has never run: README, "CI".)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.builders import REPO_ROOT
from tests.desktop import missing_tools, running_desktop

pytestmark = [
    pytest.mark.desktop,
    pytest.mark.skipif(bool(missing_tools()), reason="needs a headless desktop (Xvfb, trayer)"),
]


def test_the_smoke_run_passes_in_a_desktop_with_a_tray_host(home, tmp_path):
    bin_dir = Path(sys.executable).parent
    if not (bin_dir / "ecr-token-tray").exists():
        pytest.skip("the ecr-token-tray command is not installed next to this Python")
    with running_desktop(tmp_path / "desktop") as desktop:
        result = subprocess.run(
            [sys.executable, str(REPO_ROOT / ".ci" / "smoke.py")], cwd=tmp_path,
            env=home.full_env(**desktop.env, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}"),
            capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "smoke: ok" in result.stdout
    assert "tray stopped (SIGTERM), exit 0" in result.stdout
    log = (tmp_path / "smoke-artifacts" / "tray.log").read_text()
    assert "tray starting with backend gtk (pystray)" in log and "tray stopped" in log
