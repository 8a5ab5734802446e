"""The core stays light: no boto3, no GUI. Checked in a fresh interpreter, as users start it."""

import json
import subprocess
import sys

HEAVY = ["boto3", "botocore", "pystray", "plyer", "PIL", "gi", "Xlib", "dbus_fast"]  # tray only


def modules_after(code: str, env: dict | None = None) -> set[str]:
    probe = f"{code}\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, env=env)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_core_modules_import_no_heavy_library():
    core = ["model", "hosts", "tokens", "snapshot", "settings", "statefile", "errors",
            "sources.docker_config", "sources.cred_helper", "sources.ecr_login",
            "sources.podman", "sources.aws_config"]
    loaded = modules_after("\n".join(f"import tray_app.{name}" for name in core))
    assert {m.split(".")[0] for m in loaded} & set(HEAVY) == set()


def test_status_command_imports_no_heavy_library(home):
    code = ("import sys; sys.argv = ['ecr-token-tray', 'status', '--json']\n"
            "from tray_app import cli\n"
            "try:\n    cli.main()\nexcept SystemExit:\n    pass")
    loaded = modules_after(code, env=home.full_env())
    assert {m.split(".")[0] for m in loaded} & set(HEAVY) == set()
