"""Which unit tests run off Linux (the macOS and Windows runners of .github/workflows/ci.yml).

Most unit tests run the real CLI as a child process with stand-ins that are POSIX shell
scripts, check POSIX file modes, or use Linux tools (Xvfb, dbus-daemon, /proc); none of them
has run on macOS or Windows. Off Linux only the files named here run (pure code: parsers,
decisions, the icon, the notifier's order, the action runner); every other test is skipped
with the reason below, so a run says how much it left out. Widen the list once a file has
passed on a real runner.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent

PORTABLE = {
    "test_action_runner.py", "test_balloon.py", "test_cli_parsing.py", "test_dbusmenu_model.py",
    "test_helm_paths.py", "test_hosts.py", "test_icon.py", "test_notify.py", "test_record.py",
    "test_renew_ecr.py",
    "test_renew_plan.py", "test_settings.py", "test_sources_aws_config.py",
    "test_sources_docker_config.py", "test_sources_ecr_login.py", "test_sources_podman.py",
    "test_sso_decisions.py", "test_timeutil.py", "test_tokens.py", "test_tray_backend.py",
}
PORTABLE_ON = {
    "darwin": PORTABLE | {"test_macos_bundle.py"},  # the LaunchAgent and the .app spec
    "win32": PORTABLE,
}
NOT_YET = pytest.mark.skip(reason=f"not yet run on {sys.platform}: Linux only for now"
                           " (tests/unit/conftest.py lists what runs here)")


def pytest_collection_modifyitems(config, items) -> None:
    if sys.platform.startswith("linux"):
        return
    portable = PORTABLE_ON.get(sys.platform, PORTABLE)
    for item in items:  # every collected item reaches this hook: judge only tests/unit's
        if item.path.parent == HERE and item.path.name not in portable:
            item.add_marker(NOT_YET)
