from __future__ import annotations

import pytest

from tests.builders import FakeHome


@pytest.fixture
def home(tmp_path, monkeypatch) -> FakeHome:
    """An empty temporary HOME; the environment (in-process and for children) points at it."""
    fake = FakeHome.create(tmp_path / "home")
    for name in ("DOCKER_CONFIG", "REGISTRY_AUTH_FILE", "AWS_CONFIG_FILE", "AWS_ECR_CACHE_DIR",
                 "ECR_TOKEN_TRAY_CONFIG", "AWS_ECR_DISABLE_CACHE", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in fake.env.items():
        monkeypatch.setenv(name, value)
    return fake


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Print the figures tests recorded with tests/figures.py (bad inputs tried/passed...)."""
    from tests import figures

    line = figures.summary_line()
    if line:
        terminalreporter.write_sep("-", "figures")
        terminalreporter.write_line(line)
