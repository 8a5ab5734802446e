"""Helpers shared by the SSO integration tests (not a test module)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

from tests.builders import REPO_ROOT, FakeHome

# Resolve a profile's credentials the way every boto3 user does; explain SSO failures.
RESOLVE_CREDENTIALS = """
import json, sys
import boto3
from tray_app.renew import sso
profile = sys.argv[1]
try:
    credentials = boto3.Session(profile_name=profile).get_credentials()
    frozen = credentials.get_frozen_credentials()
    print(json.dumps({"ok": True, "key_prefix": frozen.access_key[:4],
                      "has_session_token": bool(frozen.token)}))
except Exception as error:
    explained = sso.explain_sso_error(error, profile)
    print(json.dumps({"ok": False, "kind": type(error).__name__,
                      "message": str(explained) if explained else None}))
"""

# Call the SSO step in a fresh interpreter (webbrowser reads $BROWSER once per process).
CALL_SSO = """
import json, sys
from tray_app.renew import sso
from tray_app.errors import TrayAppError
kind, name, options = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
lines = []
try:
    if kind == "sign_in":
        result = sso.sign_in(name, progress=lines.append, **options)
    else:
        result = sso.ensure_credentials(name, progress=lines.append, **options)
    print(json.dumps({"result": result, "progress": lines}))
except TrayAppError as error:
    print(json.dumps({"error": type(error).__name__, "message": str(error),
                      "progress": lines}))
"""


def child_env(home: FakeHome, **overrides: str) -> dict[str, str]:
    env = home.full_env(**overrides)
    env["PYTHONPATH"] = str(REPO_ROOT)
    return env


def run_python(home: FakeHome, code: str, *args: str, timeout: float = 60,
               **env: str) -> tuple[dict, subprocess.CompletedProcess]:
    result = subprocess.run([sys.executable, "-c", code, *args], env=child_env(home, **env),
                            capture_output=True, text=True, timeout=timeout, cwd=home.root)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1]), result


def call_sso_in_child(home: FakeHome, kind: str, name: str, timeout: float = 60,
                      **env: str) -> tuple[dict, subprocess.CompletedProcess]:
    options = json.loads(env.pop("options", "{}"))
    return run_python(home, CALL_SSO, kind, name, json.dumps(options), timeout=timeout, **env)


def recording_browser(directory: Path) -> tuple[Path, Path]:
    """A $BROWSER stand-in that records the URL it was asked to open (no real browser)."""
    directory.mkdir(parents=True, exist_ok=True)
    record = directory / "opened.txt"
    script = directory / "browser"
    script.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$@\" >> '{record}'\n")
    script.chmod(0o755)
    return script, record


def processes_mentioning(text: str) -> list[int]:
    """Live processes whose command line contains ``text`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().split()[2]
        except OSError:
            continue
        if text in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


def token_document(home: FakeHome, key: str) -> dict:
    import hashlib

    path = home.sso_cache_dir / f"{hashlib.sha1(key.encode()).hexdigest()}.json"
    return json.loads(path.read_text())


def ensure_on_two_threads(profiles: tuple[str, str], allow_browser: bool) -> list[str]:
    """``sso.ensure_credentials`` for two profiles at once, each on its own thread: what
    each call answered (in the order they finished)."""
    from tray_app.renew import sso

    results: list[str] = []

    def ensure(profile: str) -> None:
        results.append(sso.ensure_credentials(profile, allow_browser=allow_browser))

    threads = [threading.Thread(target=ensure, args=(profile,)) for profile in profiles]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results
