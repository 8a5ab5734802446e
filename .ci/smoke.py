"""The smoke run of .github/workflows/ci.yml, the same on Linux, macOS and Windows: the
installed `ecr-token-tray` command, run as a user runs it.

1. `ecr-token-tray --version` prints the version;
2. `ecr-token-tray status --json` prints a JSON document (exit 0, 1 or 2: what it found);
3. `ecr-token-tray tray` runs for 10 s, then is stopped as the OS stops it (POSIX: SIGTERM;
   Windows: CTRL_BREAK to its process group, then taskkill /F if it did not end); its log
   must say which backend it started with and hold no traceback and no ERROR line.
On Linux, run it inside a display with a tray host (the workflow: xvfb-run + trayer).
The log is copied to ``smoke-artifacts/``. Exit 0 when every check held; else 1, with one
line per problem.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

RUN_SECONDS = 10
STOP_SECONDS = 30
ARTIFACTS = Path("smoke-artifacts")


def main() -> int:
    program = shutil.which("ecr-token-tray")
    if program is None:
        print("smoke: `ecr-token-tray` is not on PATH (pip install the project first)")
        return 1
    problems: list[str] = []
    version = subprocess.run([program, "--version"], capture_output=True, text=True,
                             timeout=60, check=False)
    print(f"smoke: --version -> {version.stdout.strip()!r} (exit {version.returncode})")
    if version.returncode != 0 or not version.stdout.strip():
        problems.append(f"--version exited {version.returncode}: {version.stderr.strip()}")
    status = subprocess.run([program, "status", "--json"], capture_output=True, text=True,
                            timeout=120, check=False)
    print(f"smoke: status --json -> exit {status.returncode}")
    try:
        json.loads(status.stdout)
    except ValueError:
        problems.append(f"status --json printed no JSON (exit {status.returncode}):"
                        f" {status.stderr.strip()[:300]}")
    if status.returncode not in (0, 1, 2):
        problems.append(f"status --json exited {status.returncode}")
    problems += tray_for_a_while(program)
    for problem in problems:
        print(f"smoke: FAILED: {problem}")
    print("smoke: ok" if not problems else f"smoke: {len(problems)} problem(s)")
    return 1 if problems else 0


def tray_for_a_while(program: str) -> list[str]:
    log = tray_log()
    start = log.stat().st_size if log.exists() else 0
    windows = sys.platform == "win32"
    flags = subprocess.CREATE_NEW_PROCESS_GROUP if windows else 0  # for CTRL_BREAK
    tray = subprocess.Popen([program, "tray"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, creationflags=flags)
    time.sleep(RUN_SECONDS)  # the tray's first snapshot, alerts and menu happen here
    problems = []
    if tray.poll() is not None:
        problems.append(f"the tray ended by itself within {RUN_SECONDS} s"
                        f" (exit {tray.returncode})")
    else:
        how = stop(tray)
        print(f"smoke: tray stopped ({how}), exit {tray.returncode}")
        if how == "SIGTERM" and tray.returncode != 0:
            problems.append(f"the tray exited {tray.returncode} on SIGTERM (expected 0)")
    output = tray.stdout.read() if tray.stdout else ""
    print(f"smoke: tray output: {output.strip()[:2000] or '(none)'}")
    text = log.read_text(encoding="utf-8", errors="replace")[start:] if log.exists() else ""
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "tray.log").write_text(text, encoding="utf-8")
    (ARTIFACTS / "tray-output.txt").write_text(output, encoding="utf-8")
    if "tray starting with backend" not in text:
        problems.append(f"the log ({log}) does not say which backend the tray started with")
    if "Traceback" in text or "Traceback" in output:
        problems.append("a traceback in the tray's log or output")
    errors = [line for line in text.splitlines() if " ERROR " in line]
    if errors:
        problems.append(f"ERROR lines in the tray's log: {errors[:3]}")
    return problems


def stop(tray: subprocess.Popen) -> str:
    """Stop the tray as the OS would; return how it ended."""
    if sys.platform != "win32":
        tray.send_signal(signal.SIGTERM)
        tray.wait(STOP_SECONDS)
        return "SIGTERM"
    os.kill(tray.pid, signal.CTRL_BREAK_EVENT)  # the tray stops on SIGBREAK
    try:
        tray.wait(STOP_SECONDS)
        return "CTRL_BREAK"
    except subprocess.TimeoutExpired:
        subprocess.run(["taskkill", "/F", "/T", "/PID", str(tray.pid)], check=False)
        tray.wait(STOP_SECONDS)
        return "taskkill /F (it did not end on CTRL_BREAK)"


def tray_log() -> Path:
    from tray_app.logs import log_file
    from tray_app.settings import Paths

    return log_file(Paths.from_env().log_dir)


if __name__ == "__main__":
    sys.exit(main())
