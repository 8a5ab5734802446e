"""Run `ecr-token-tray status --json` on every case of the bad-input corpus (bad_inputs.py).

For every case: no traceback, one message naming the file or helper with what is wrong and
what to do, every other registry still reported, and no file modified (bytes and mode).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests import figures
from tests.builders import FakeHome
from tests.unit.bad_inputs import BASELINE_ROWS, CASES, BadInput, baseline

NOBODY = 65534
figures.record("bad inputs tried", 0)
figures.record("bad inputs passed", 0)


@pytest.fixture
def corpus_home():
    """A HOME outside pytest's root-only temp folder, so another user can run in it too."""
    top = Path(tempfile.mkdtemp(prefix="ecr-tray-corpus-"))
    top.chmod(0o755)
    home = FakeHome.create(top / "home")
    yield home
    shutil.rmtree(top, ignore_errors=True)


def file_states(root: Path) -> dict[str, tuple]:
    """Digest, mode and kind of everything under HOME (no 50 MB copies kept in memory)."""
    states = {}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        if stat.S_ISREG(info.st_mode):
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        elif stat.S_ISLNK(info.st_mode):
            digest = "link:" + os.readlink(path)
        else:
            digest = stat.S_IFMT(info.st_mode)
        states[str(path)] = (digest, info.st_mode, info.st_uid)
    return states


def changed_beyond_the_summary(home: FakeHome, before: dict, after: dict) -> set[str]:
    """What changed under HOME, leaving out the prompt summary every snapshot rewrites (and
    the folders made to hold it)."""
    summary = home.state_dir / "summary"
    allowed = {str(summary), *(str(p) for p in summary.parents if home.root in p.parents)}
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    return changed - allowed


def run_status(home: FakeHome, case: BadInput, as_nobody: bool) -> subprocess.CompletedProcess:
    env = home.full_env(PATH=home.path_with_bin, **case.env(home))
    prefix = []
    if as_nobody:
        prefix = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    return subprocess.run([*prefix, sys.executable, "-m", "tray_app", "status", "--json"],
                          env=env, capture_output=True, text=True, timeout=60, cwd=home.root)


def make_unreadable(home: FakeHome, target: Path) -> bool:
    """Lock the file; True when the CLI must then run as `nobody` (root reads anything)."""
    if os.geteuid() != 0:
        target.chmod(0)
        return False
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: no way to make a file unreadable")
    for path in [home.root, *home.root.rglob("*")]:
        os.lchown(path, NOBODY, NOBODY)
    target.chmod(0)
    return True


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input(corpus_home, case):
    figures.add("bad inputs tried")
    home = corpus_home
    baseline(home)
    origin = case.build(home)
    as_nobody = case.unreadable and make_unreadable(home, Path(origin))
    before = file_states(home.root)

    result = run_status(home, case, as_nobody)

    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, (
        result.stderr)
    document = json.loads(result.stdout)
    errors = [e["message"] for e in document["errors"]]
    stderr_lines = result.stderr.splitlines()
    if case.message is None:
        assert (result.returncode, errors, stderr_lines) == (0, [], []), result.stderr
    else:
        assert result.returncode == 2, result.stderr
        matching = [m for m in errors if origin in m and case.message in m]
        assert matching, f"no error naming {origin!r} with {case.message!r}: {errors}"
        hint = matching[0].partition(" - ")[2]
        assert case.fix in hint, f"fix {case.fix!r} missing from {matching[0]!r}"
        assert f"ecr-token-tray: {matching[0]}" in stderr_lines
        assert len(stderr_lines) == len(errors)  # one line per problem, nothing else
    rows = {(r["host"], r["source"]): r for r in document["registries"]}
    for name, row in BASELINE_ROWS.items():
        if name not in case.hides:
            assert row in rows, f"{name} row lost: {sorted(rows)}"
    if "sso" not in case.hides:
        (corp,) = [s for s in document["sso_sessions"] if s["name"] == "corp"]
        assert corp["state"] == "ok" and corp["profiles"] == ["dev"]
    assert changed_beyond_the_summary(home, before, file_states(home.root)) == set(), (
        "status modified a file")
    figures.add("bad inputs passed")


def test_the_corpus_is_big_enough():
    assert len(CASES) >= 45
    assert len({case.id for case in CASES}) == len(CASES)
