from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from tests.builders import FakeHome


@pytest.fixture
def home(tmp_path, monkeypatch) -> FakeHome:
    """An empty temporary HOME; the environment (in-process and for children) points at it."""
    fake = FakeHome.create(tmp_path / "home")
    for name in ("DOCKER_CONFIG", "REGISTRY_AUTH_FILE", "AWS_CONFIG_FILE", "AWS_ECR_CACHE_DIR",
                 "ECR_TOKEN_TRAY_CONFIG", "AWS_ECR_DISABLE_CACHE", "AWS_PROFILE",
                 "KUBECONFIG", "HELM_REGISTRY_CONFIG", "HELM_CONFIG_HOME"):
        monkeypatch.delenv(name, raising=False)
    for name, value in fake.env.items():
        monkeypatch.setenv(name, value)
    return fake


@pytest.fixture
def sso_service(monkeypatch):
    """A local AWS sso + sso-oidc endpoint (tests/stand_ins/sso_endpoint.py); the in-process
    env points boto3 at it (children: pass ``sso_service.env()``)."""
    from tests.stand_ins.sso_endpoint import sso_endpoint

    with sso_endpoint() as endpoint:
        for name, value in endpoint.env().items():
            monkeypatch.setenv(name, value)
        yield endpoint


@pytest.fixture
def fake_aws(tmp_path, monkeypatch):
    """A stand-in `aws` CLI v2 first on PATH (tests/stand_ins/fake_aws_cli.py)."""
    from tests.stand_ins.fake_aws_cli import FakeAwsCli

    fake = FakeAwsCli.install(tmp_path / "fake-aws")
    monkeypatch.setenv("PATH", fake.path_with_fake_first())
    return fake


@pytest.fixture(scope="session")
def test_ca(tmp_path_factory):
    """A throwaway CA and a server certificate for the real ECR host names (openssl CLI)."""
    from tests.stand_ins.registry import make_test_ca

    return make_test_ca(tmp_path_factory.mktemp("test-ca"))


@pytest.fixture
def ecr_lab(home, test_ca, monkeypatch):
    """Local ECR + ECR Public API, a TLS registry accepting only the tokens it issued, and a
    CONNECT proxy routing real ECR host names to it (tests/stand_ins/registry.py). The
    environment (in-process and ``home.run_cli`` children) points every tool at them, and
    ``~/.aws/credentials`` holds fake static keys for profiles default, dev and ops."""
    from tests.stand_ins.registry import EcrLab, running_ecr_lab

    EcrLab.credentials_file(home.root)
    with running_ecr_lab(test_ca) as lab:
        for name, value in lab.env().items():
            monkeypatch.setenv(name, value)
            home.env[name] = value
        yield lab



@pytest.fixture(scope="session")
def plain_app_venv():
    """The project's wheel in a venv made by /usr/bin/python3 WITHOUT system site-packages,
    as pipx / uv install it, in a world-readable folder (the desktop tests' unprivileged
    user runs it). PyGObject is not importable there (tests/desktops/app.py)."""
    from tests.desktops.app import SYSTEM_PYTHON, build_plain_venv, imports_pygobject
    from tests.desktops.session import remove_folder, world_readable_folder

    if not Path(SYSTEM_PYTHON).exists():
        pytest.skip(f"needs {SYSTEM_PYTHON} to make the plain venv users get")
    folder = world_readable_folder("ecr-token-tray-venv-")
    try:
        venv = build_plain_venv(folder)
        assert not imports_pygobject(venv), f"{venv} must not see the system PyGObject"
        yield venv
    finally:
        remove_folder(folder)


@pytest.fixture
def desktop_lab(test_ca):
    """The ECR lab (local ECR endpoint, TLS registry, CONNECT proxy) for an app running on
    a test desktop as another user: tests/desktops/app.py writes its HOME and env."""
    from tests.stand_ins.registry import running_ecr_lab

    with running_ecr_lab(test_ca) as lab:
        yield lab


@pytest.fixture
def screenshots(tmp_path) -> Path:
    """Where desktop tests keep their screenshots: $ECR_TOKEN_TRAY_SCREENSHOTS, else tmp."""
    folder = Path(os.environ.get("ECR_TOKEN_TRAY_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def app_logging_restored():
    """setup_logging configures the process-wide "tray_app" logger: leave it as found."""
    root = logging.getLogger("tray_app")
    before = (list(root.handlers), root.level)
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    for handler in before[0]:
        root.addHandler(handler)
    root.setLevel(before[1])

def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Print the figures tests recorded with tests/figures.py (bad inputs tried/passed...)."""
    from tests import figures

    line = figures.summary_line()
    if line:
        terminalreporter.write_sep("-", "figures")
        terminalreporter.write_line(line)
