"""Docker's credential stores on Windows, with the app's Windows build under Wine
(tests/wine_support.py: python.org's embeddable CPython 3.13, ``sys.platform == "win32"``):
``credsStore: wincred`` cannot hold an ECR token (2560-byte Credential Manager limit), and
`status`, `doctor`, `login` and `ensure` say so with what works; `ensure` on Windows (no
exec) passes COMMAND's exit status on.

Real parts: the Windows CPython and the app's wheel, Windows paths and PATH/PATHEXT. Not
real: Windows Credential Manager and docker-credential-wincred (neither exists under Wine),
so the limit itself is the documented one, not measured here.
"""

from __future__ import annotations

import json

import pytest

from tests import wine_support
from tests.builders import docker_auth, host

pytestmark = [pytest.mark.wine,
              pytest.mark.skipif(bool(wine_support.missing()),
                                 reason=wine_support.missing() or "wine present")]

DEV = host("222222222222", "eu-central-1")


@pytest.fixture(scope="module")
def wine(tmp_path_factory):
    prefix = wine_support.session_prefix(tmp_path_factory.mktemp("wine-stores"))
    yield prefix
    prefix.stop()


def write_config(wine, document: dict) -> None:
    path = wine.profile / ".docker" / "config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document))


def app(wine, *args: str) -> list[str]:
    return [wine.python, "-m", "tray_app", *args]


def test_wincred_is_named_with_what_works_and_ensure_runs_commands(wine):
    write_config(wine, {"auths": {DEV: {}}, "credsStore": "wincred"})
    marker = r"C:\ensure-ran.txt"
    status, doctor, login, ensure = wine.batch([
        app(wine, "status", "--json"), app(wine, "doctor", "--json"),
        app(wine, "login", DEV, "--profile", "dev"),
        app(wine, "ensure", "--", wine.python, "-c", f"open(r'{marker}', 'w').close()")])

    (row,) = json.loads(status.stdout)["registries"]
    problem = row["store_problem"]
    assert problem["kind"] == "too-small" and "2560 bytes" in problem["reason"]
    config = r"C:\users" + f"\\{wine.user}" + r"\.docker\config.json"
    assert f'"credsStore": "wincred" in {config}' in problem["reason"]
    assert f'"credHelpers": {{"{DEV}": "ecr-login"}}' in problem["fix"]
    store_checks = [c for c in json.loads(doctor.stdout) if c["name"] == "credential store"]
    assert [c["level"] for c in store_checks] == ["fail"]
    assert login.returncode == 1 and "The stub received bad data" in login.stdout
    assert ensure.returncode == 75 and "2560 bytes" in ensure.stderr
    assert not wine.host_path(marker).exists()  # COMMAND did not run
    for result in (status, doctor, login, ensure):
        assert "Traceback" not in result.stderr

    # a per-host ecr-login entry is what works; a login with hours left needs no renewal
    write_config(wine, {"auths": {DEV: {"auth": docker_auth(300)}},
                        "credHelpers": {host("333333333333", "us-west-2"): "ecr-login"}})
    (passed,) = wine.batch([app(wine, "ensure", "--min", "2h", "--", wine.python, "-c",
                                "import sys; print('a b'); sys.exit(3)")])
    assert (passed.returncode, passed.stdout) == (3, "a b\n"), passed.stderr
