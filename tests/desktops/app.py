"""The app as users install and run it on a desktop, and the HOME it finds there.

``build_plain_venv``: the project's wheel installed into a venv made by ``/usr/bin/python3``
WITHOUT ``--system-site-packages`` (as pipx and ``uv tool install`` make them), in a
world-readable folder so the desktop's unprivileged user can run it. PyGObject is not
importable there.

``realistic_home``: three ECR logins in ``~/.docker/config.json`` (10 min left, expired 1 h
ago, 9 h left), static keys for the default profile in ``~/.aws/credentials``, automatic
renewal off so every refresh the test sees is one it asked for, and the ECR lab (local
ECR endpoint, TLS registry behind a CONNECT proxy) reachable with its CA readable by the user.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.builders import REPO_ROOT, FakeHome, docker_auth, host
from tests.desktop import wait_until
from tests.desktops import sni
from tests.desktops.session import (
    APP_TAG,
    UserSession,
    command_line,
    end_process,
    make_readable,
    monotonic,
)
from tray_app.tokens import decode_docker_auth
from tray_app.ui.instance import LOCK_NAME

SYSTEM_PYTHON = "/usr/bin/python3"
APP_ID = "ecr-token-tray"
SOON = host("252525252525", "us-west-2")      # 10 min left
EXPIRED = host("262626262626", "eu-west-1")   # expired 1 h ago
LATER = host("272727272727", "ap-southeast-2")  # 9 h left
REGION_OF = {SOON: "us-west-2", EXPIRED: "eu-west-1", LATER: "ap-southeast-2"}
NO_AUTOMATIC_RENEWAL = "[renew]\nautomatic = false\n"


def build_plain_venv(folder: Path) -> Path:
    """Build the wheel, install it into a fresh plain venv; return the venv's folder."""
    source, dist, venv = folder / "source", folder / "dist", folder / "venv"
    # build from a copy: an in-tree build would write build/ and *.egg-info into the repo
    source.mkdir(parents=True)
    for path in REPO_ROOT.iterdir():  # pyproject.toml and the files it names (readme...)
        if path.is_file():
            shutil.copy2(path, source / path.name)
    shutil.copytree(REPO_ROOT / "tray_app", source / "tray_app",
                    ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                    "-q", "-w", str(dist), str(source)], check=True, capture_output=True,
                   timeout=600)
    wheel = next(dist.glob("ecr_token_tray-*.whl"))
    subprocess.run([SYSTEM_PYTHON, "-m", "venv", str(venv)], check=True, capture_output=True,
                   timeout=300)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)],
                   check=True, capture_output=True, timeout=900)
    # the tree is the unprivileged user's to read and run (not to write)
    make_readable(folder)
    return venv


def imports_pygobject(venv: Path) -> bool:
    probe = subprocess.run([str(venv / "bin" / "python"), "-c", "import gi"],
                           capture_output=True, timeout=60, check=False)
    return probe.returncode == 0


def password_in(home: FakeHome, registry_host: str) -> str:
    document = json.loads(home.docker_config_path.read_text())
    return decode_docker_auth(document["auths"][registry_host]["auth"]).password


def refreshed(lab, home: FakeHome, registry_host: str, calls_before: int) -> bool:
    """The endpoint was asked for the host's region once more, config.json holds a password
    it issued, and the registry accepted a login for the host (docker login's check)."""
    return (lab.endpoint.calls_by_region()[REGION_OF[registry_host]] > calls_before
            and password_in(home, registry_host) in lab.issuer.passwords
            and lab.registry.accepted(registry_host) > 0)


def realistic_home(session: UserSession, lab, automatic_renewal: bool = False) -> FakeHome:
    """Write the HOME the app finds; returns a FakeHome over ``session.home``.
    ``automatic_renewal``: the default config (the app renews what expires at start)."""
    home = FakeHome(session.home, {"HOME": str(session.home),
                                   "XDG_CONFIG_HOME": str(session.home / ".config"),
                                   "XDG_STATE_HOME": str(session.home / ".local" / "state")})
    home.docker_config({SOON: {"auth": docker_auth(10)}, EXPIRED: {"auth": docker_auth(-60)},
                        LATER: {"auth": docker_auth(540)}})
    if not automatic_renewal:
        home.app_config(NO_AUTOMATIC_RENEWAL)
    lab.credentials_file(session.home, ("default",))
    ca = session.folder / "ca.pem"  # the fixture's CA sits in a folder only root can enter
    shutil.copyfile(lab.ca.ca_cert, ca)
    ca.chmod(0o644)
    session.give(session.home)
    return home


def lab_env(session: UserSession, lab) -> dict[str, str]:
    if lab is None:
        return {}
    return {**lab.env(), "SSL_CERT_FILE": str(session.folder / "ca.pem")}


def offline_home(session: UserSession) -> FakeHome:
    """The same three ECR logins, automatic renewal off, and no AWS credentials: for tests
    that look at the tray and never renew (no ECR lab needed)."""
    home = FakeHome(session.home, {"HOME": str(session.home),
                                   "XDG_CONFIG_HOME": str(session.home / ".config"),
                                   "XDG_STATE_HOME": str(session.home / ".local" / "state")})
    home.docker_config({SOON: {"auth": docker_auth(10)}, EXPIRED: {"auth": docker_auth(-60)},
                        LATER: {"auth": docker_auth(540)}})
    home.app_config(NO_AUTOMATIC_RENEWAL)
    session.give(session.home)
    return home


@dataclass
class RunningApp:
    process: object  # subprocess.Popen
    session: UserSession
    tag: str
    started_at: float
    files_before: frozenset[Path]

    def wait_for_item(self, timeout: float = 30, address: str | None = None) -> sni.Item:
        return wait_until(lambda: self.exited() or sni.find_item(self.session, APP_ID, address),
                          timeout, "the app's item to register with the StatusNotifierWatcher")

    def exited(self) -> None:
        code = self.process.poll()
        assert code is None, f"the app exited with {code}: {self.output()[-3000:]}"

    def output(self) -> str:
        path = self.session.logs / "app.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def descendants_left(self) -> list[str]:
        """Processes still running that the app started (or the app itself)."""
        return [command_line(pid) for pid in self.session.tagged_pids(APP_TAG, self.tag)]

    def new_files(self) -> list[Path]:
        """Files in TMPDIR and XDG_RUNTIME_DIR that were not there when the app started."""
        return sorted(set(_temporary_files(self.session)) - self.files_before)

    def stop(self) -> None:
        end_process(self.process)


def start_app(session: UserSession, venv: Path, desktop_env: dict[str, str],
              lab, *args: str) -> RunningApp:
    """``<venv>/bin/ecr-token-tray ARGS`` (the bare command starts the tray), as the user;
    ``lab`` None: no ECR lab (nothing renews)."""
    tag = f"{session.folder}:{len(session.started)}"
    env = {**desktop_env, **lab_env(session, lab), APP_TAG: tag,
           "PATH": f"{venv / 'bin'}:{session.env['PATH']}"}
    files_before = frozenset(_temporary_files(session))
    started = monotonic()
    process = session.start("app", [str(venv / "bin" / "ecr-token-tray"), *args], env=env)
    return RunningApp(process, session, tag, started, files_before)


def _temporary_files(session: UserSession) -> list[Path]:
    # the single-instance lock file stays by design (tray_app/ui/instance.py): the kernel
    # drops the lock at exit, and removing the file would race with the next start
    return [path for path in (*session.tmp.rglob("*"), *session.runtime.rglob("*"))
            if path.name != LOCK_NAME]


def registry_row(rows: list[sni.MenuRow], registry_host: str) -> sni.MenuRow:
    """A registry row reads "<account> <region> - ...": find it by that prefix."""
    account, region = registry_host.split(".")[0], REGION_OF[registry_host]
    return sni.row_starting(rows, f"{account} {region}")
