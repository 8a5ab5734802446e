"""The Linux installer end to end in a temporary HOME: install, upgrade, run, uninstall.

System packages are already installed on this machine (.ci/setup.sh), so the installer runs
with --no-system-packages; --no-start because there is no desktop session here. Everything
else is real: /usr/bin/python3, a venv that sees the system PyGObject, pip installing the
app from this checkout, the installed program answering `status --json`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.builders import REPO_ROOT, docker_auth, host, in_

INSTALLER = REPO_ROOT / "installer" / "linux" / "install.sh"
PNG_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
REGISTRY = host("222222222222", "eu-central-1")


def tree(root: Path) -> dict[str, str]:
    """Every path under root with what it is: file content hash, link target, folder."""
    entries = {}
    for path in sorted(root.rglob("*")):
        relative = str(path.relative_to(root))
        if path.is_symlink():
            entries[relative] = f"link -> {os.readlink(path)}"
        elif path.is_dir():
            entries[relative] = f"dir {path.stat().st_mode:o}"
        else:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            entries[relative] = f"file {path.stat().st_mode:o} {digest}"
    return entries


@pytest.fixture(scope="session")
def pip_cache(tmp_path_factory) -> Path:
    """Outside the fake HOME, shared by this run's installs (the upgrade goes faster)."""
    return tmp_path_factory.mktemp("pip-cache")


@pytest.fixture
def lived_in_home(home, pip_cache):
    """A HOME with Docker, AWS and app files, and folders of other programs in ~/.local."""
    home.env["PIP_CACHE_DIR"] = str(pip_cache)
    home.docker_config({REGISTRY: {"auth": docker_auth(300)}})
    home.aws_config("[profile dev]\nsso_session = corp\nsso_account_id = 222222222222\n"
                    "sso_role_name = Dev\nregion = eu-central-1\n\n[sso-session corp]\n"
                    "sso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n")
    home.sso_token("corp", "https://corp.awsapps.com/start", in_(200))
    home.app_config("[thresholds]\nwarning_minutes = 30\n")
    other_tool = home.root / ".local" / "bin" / "other-tool"
    other_tool.parent.mkdir(parents=True)
    other_tool.write_text("#!/bin/sh\necho other\n")
    other_tool.chmod(0o755)
    return home


def run_installer(home, *args: str, **desktop: str) -> subprocess.CompletedProcess:
    env = home.full_env()
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "VIRTUAL_ENV", "PYTHONPATH",
                 "DBUS_SESSION_BUS_ADDRESS"):
        env.pop(name, None)
    env.update(desktop)
    # pip runs `rustc --version` for its user agent; a rustup proxy on PATH would then
    # create ~/.rustup in this fake HOME (a real user with rustup already has one).
    env["PATH"] = os.pathsep.join(part for part in env["PATH"].split(os.pathsep)
                                  if "/.cargo/" not in part + "/")
    return subprocess.run(["bash", str(INSTALLER), *args], env=env, capture_output=True,
                          text=True, timeout=600, cwd=home.root)


def run_program(program: Path, *args: str, home) -> subprocess.CompletedProcess:
    return subprocess.run([str(program), *args], env=home.full_env(), capture_output=True,
                          text=True, timeout=120, cwd=home.root)


def test_install_upgrade_and_uninstall_leave_nothing_behind(lived_in_home):
    home = lived_in_home
    before = tree(home.root)
    data = home.root / ".local" / "share"
    venv = data / "ecr-token-tray" / "venv"
    program = home.root / ".local" / "bin" / "ecr-token-tray"

    installed = run_installer(home, "--no-system-packages", "--no-start")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert "installed ecr-token-tray 0.1.0" in installed.stdout
    assert installed.stderr == ""  # no pip noise about the system's awscli

    # The link users run, the venv's own boto3/botocore, the system's PyGObject.
    assert program.is_symlink() and program.resolve() == (venv / "bin" / "ecr-token-tray").resolve()
    version = run_program(program, "--version", home=home)
    assert version.stdout.strip() == "ecr-token-tray 0.1.0"
    modules = subprocess.run(
        [str(venv / "bin" / "python"), "-I", "-c",
         "import boto3, botocore, gi, tray_app\n"
         "print(boto3.__file__); print(botocore.__file__); print(tray_app.__file__)\n"
         "print(gi.__file__)"],
        capture_output=True, text=True, timeout=60, check=True, cwd=REPO_ROOT)
    *own, system_gi = modules.stdout.split()
    assert all(Path(path).is_relative_to(venv) for path in own), own
    assert system_gi.startswith("/usr/lib/python3/dist-packages/")

    status = run_program(program, "status", "--json", home=home)
    assert status.returncode == 0, status.stderr
    document = json.loads(status.stdout)
    assert set(document) == {"generated_at", "registries", "sso_sessions", "errors"}
    assert [(r["host"], r["state"], r["profile"]) for r in document["registries"]] == [
        (REGISTRY, "ok", "dev")]
    assert [s["name"] for s in document["sso_sessions"]] == ["corp"]

    # Menu entry, icons and autostart entry, all pointing at the venv's program.
    app_entry = data / "applications" / "ecr-token-tray.desktop"
    autostart_entry = home.root / ".config" / "autostart" / "ecr-token-tray.desktop"
    for entry in (app_entry, autostart_entry):
        assert f"Exec={venv}/bin/ecr-token-tray tray\n" in entry.read_text()
        validate = subprocess.run(["desktop-file-validate", str(entry)], capture_output=True,
                                  text=True, timeout=30)
        assert (validate.returncode, validate.stdout) == (0, "")
    for size in PNG_SIZES:
        icon = data / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "ecr-token-tray.png"
        assert icon.read_bytes() == (REPO_ROOT / "assets" / icon.relative_to(data / "icons")
                                     ).read_bytes()
    assert run_program(program, "autostart", "status", home=home).returncode == 0

    # Re-running upgrades in place: same layout, nothing left from the previous venv.
    installed_tree = tree(home.root)
    upgraded = run_installer(home, "--no-system-packages", "--no-start")
    assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
    assert not (venv.parent / "venv.previous").exists()
    outside_venv = {p for p in tree(home.root) if not p.startswith(".local/share/ecr-token-tray/")}
    assert outside_venv == {p for p in installed_tree
                            if not p.startswith(".local/share/ecr-token-tray/")}
    assert run_program(program, "--version", home=home).returncode == 0

    removed = run_installer(home, "--uninstall")
    assert removed.returncode == 0, removed.stdout + removed.stderr
    assert f"kept: your settings in {home.root}/.config/ecr-token-tray" in removed.stdout
    assert tree(home.root) == before  # Docker, AWS, app config intact; nothing added is left


def test_uninstall_without_an_install_changes_nothing(lived_in_home):
    before = tree(lived_in_home.root)
    removed = run_installer(lived_in_home, "--uninstall")
    assert removed.returncode == 0, removed.stderr
    assert tree(lived_in_home.root) == before


def test_an_unknown_option_is_one_clear_line(lived_in_home):
    result = run_installer(lived_in_home, "--frobnicate")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "ecr-token-tray installer: unknown option: --frobnicate")


def test_a_file_in_the_way_of_the_link_is_not_overwritten(lived_in_home):
    in_the_way = lived_in_home.root / ".local" / "bin" / "ecr-token-tray"
    in_the_way.write_text("#!/bin/sh\necho mine\n")
    before = tree(lived_in_home.root)
    result = run_installer(lived_in_home, "--no-system-packages", "--no-start")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"ecr-token-tray installer: {in_the_way} exists and is not a link this installer made:"
        " remove it, then re-run")
    assert tree(lived_in_home.root) == before


def test_a_missing_wheel_is_named_and_nothing_changes(lived_in_home):
    before = tree(lived_in_home.root)
    missing = lived_in_home.root / "no-such.whl"
    result = run_installer(lived_in_home, "--no-system-packages", "--no-start", "--from",
                           str(missing))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"ecr-token-tray installer: --from {missing}: no such file or folder")
    assert tree(lived_in_home.root) == before


@pytest.fixture
def desktop_session(tmp_path) -> Iterator[dict[str, str]]:
    """Xvfb, a session D-Bus and trayer (a system tray): the parts a login session gives."""
    for tool in ("Xvfb", "dbus-daemon", "trayer"):
        if not shutil.which(tool):
            pytest.fail(f"{tool} is missing: run .ci/setup.sh")
    read_end, write_end = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write_end), "-screen", "0", "800x200x24",
                             "-nolisten", "tcp"], pass_fds=(write_end,),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_end)
    started = []
    try:
        with os.fdopen(read_end) as display_pipe:
            display = f":{display_pipe.readline().strip()}"
        # The bus starts services it activates (the notification server) with its own
        # environment: give it the display, as a login session does.
        bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1",
                                f"--address=unix:path={tmp_path / 'bus'}"],
                               env={**os.environ, "DISPLAY": display},
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        started.append(bus)
        address = bus.stdout.readline().strip()
        session = {"DISPLAY": display, "DBUS_SESSION_BUS_ADDRESS": address,
                   "PYSTRAY_BACKEND": "gtk", "NO_AT_BRIDGE": "1"}
        started.append(subprocess.Popen(
            ["trayer", "--edge", "top", "--align", "right", "--widthtype", "pixel",
             "--width", "200", "--height", "40"], env={**os.environ, **session},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        yield session
    finally:
        for process in [*reversed(started), xvfb]:
            process.terminate()
            process.wait(timeout=10)


def venv_processes(venv: Path) -> dict[int, list[str]]:
    """Our user's processes started from the venv (pid -> argv)."""
    found = {}
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].decode(errors="replace").startswith(f"{venv}/bin/"):
            found[int(cmdline.parent.name)] = [a.decode(errors="replace") for a in argv if a]
    return found


def wait_for(condition, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    return condition()


def test_in_a_desktop_session_the_tray_starts_and_uninstall_stops_it(lived_in_home,
                                                                     desktop_session):
    home = lived_in_home
    before = tree(home.root)
    venv = home.root / ".local" / "share" / "ecr-token-tray" / "venv"

    installed = run_installer(home, "--no-system-packages", **desktop_session)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert "tray started (pid " in installed.stdout
    trays = wait_for(lambda: venv_processes(venv))
    assert [argv[-1] for argv in trays.values()] == ["tray"]
    (pid,) = trays
    # The tray itself runs (it holds the one-tray-per-user lock), not just a process.
    lock = Path(home.env["XDG_RUNTIME_DIR"]) / "ecr-token-tray.lock"
    assert wait_for(lambda: lock.exists() and lock.read_text().strip() == str(pid))

    removed = run_installer(home, "--uninstall", **desktop_session)
    assert removed.returncode == 0, removed.stdout + removed.stderr
    assert f"stopping the running tray (pid {pid})" in removed.stdout
    assert wait_for(lambda: not venv_processes(venv), timeout=10)

    # What remains is what the uninstaller says it keeps (the app's state and log) and the
    # session's runtime folder; everything the installer added is gone.
    left = set(tree(home.root)) - set(before)
    kept = (".local/state", "run/")
    assert {path for path in left if not path.startswith(kept)} == set(), left
    assert all(tree(home.root)[path] == entry for path, entry in before.items())
