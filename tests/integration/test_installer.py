"""The Linux installer end to end in a temporary HOME: install, upgrade, run, uninstall.

System packages are already installed on this machine (.ci/setup.sh), so most runs pass
--no-system-packages. Everything else is real: /usr/bin/python3, a venv that sees the
system PyGObject, pip installing the app from a copy of this checkout, the installed program
answering `status --json`, a real X desktop (Xvfb, trayer, a session D-Bus) for the tray,
real bash, zsh and fish for PATH. Stood in: an interpreter older than 3.11 when the machine
has none (tests/stand_ins/old_python.py), and a machine without python3-gi (a copy of the
dpkg database without it, read by the real dpkg-query through DPKG_ADMINDIR).
"""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.builders import REPO_ROOT, FakeHome, docker_auth, host, in_
from tests.stand_ins.old_python import old_python

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


def run_installer(home, *args: str, script: Path = INSTALLER,
                  **desktop: str) -> subprocess.CompletedProcess:
    env = home.full_env()
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "VIRTUAL_ENV", "PYTHONPATH",
                 "DBUS_SESSION_BUS_ADDRESS"):
        env.pop(name, None)
    env.update(desktop)
    # pip runs `rustc --version` for its user agent; a rustup proxy on PATH would then
    # create ~/.rustup in this fake HOME (a real user with rustup already has one).
    env["PATH"] = os.pathsep.join(part for part in env["PATH"].split(os.pathsep)
                                  if "/.cargo/" not in part + "/")
    env = {name: value for name, value in env.items() if value != ""}  # "" = unset
    return subprocess.run([str(script), *args], env=env, capture_output=True,
                          text=True, timeout=600, cwd=home.root)


def a_clone(root: Path) -> Path:
    """A copy of the files a clone gives the installer (deleted later, as users do)."""
    clone = root / "ecr-token-tray-clone"
    clone.mkdir()
    for name in ("pyproject.toml", "DESCRIPTION.md", "LICENSE"):
        shutil.copy2(REPO_ROOT / name, clone / name)
    for name in ("installer", "tray_app", "assets"):
        shutil.copytree(REPO_ROOT / name, clone / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    return clone


def printed_uninstall_command(output: str, home) -> Path:
    (line,) = [line for line in output.splitlines() if line.startswith("uninstall with: ")]
    return Path(line.removeprefix("uninstall with: ").replace("~", str(home.root), 1))


def run_program(program: Path, *args: str, home) -> subprocess.CompletedProcess:
    return subprocess.run([str(program), *args], env=home.full_env(), capture_output=True,
                          text=True, timeout=120, cwd=home.root)


def test_install_upgrade_and_uninstall_leave_nothing_behind(lived_in_home, tmp_path):
    home = lived_in_home
    before = tree(home.root)
    data = home.root / ".local" / "share"
    venv = data / "ecr-token-tray" / "venv"
    program = home.root / ".local" / "bin" / "ecr-token-tray"
    clone = a_clone(tmp_path)
    script = clone / "installer" / "linux" / "install.sh"

    # --desktop: the full desktop install although this shell has no desktop session.
    installed = run_installer(home, "--no-system-packages", "--no-start", "--desktop",
                              script=script)
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
    upgraded = run_installer(home, "--no-system-packages", "--no-start", script=script)
    assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
    assert "command line only" not in upgraded.stdout  # an upgrade keeps the desktop parts
    assert not (venv.parent / "venv.previous").exists()
    outside_venv = {p for p in tree(home.root) if not p.startswith(".local/share/ecr-token-tray/")}
    assert outside_venv == {p for p in installed_tree
                            if not p.startswith(".local/share/ecr-token-tray/")}
    assert run_program(program, "--version", home=home).returncode == 0

    # The clone goes away; the command the installer printed still uninstalls.
    uninstaller = printed_uninstall_command(upgraded.stdout, home)
    assert uninstaller == data / "ecr-token-tray" / "uninstall.sh"
    shutil.rmtree(clone)
    doctor = run_program(program, "doctor", home=home)
    assert f"uninstall: {uninstaller}" in doctor.stdout
    removed = run_installer(home, script=uninstaller)
    assert removed.returncode == 0, removed.stdout + removed.stderr
    assert removed.stdout.splitlines()[0] == (
        f"removed ecr-token-tray: {venv.parent} (the venv), start at login"
        f" ({home.root}/.config/autostart/ecr-token-tray.desktop), the menu entry, the icons,"
        f" {program}")
    # It names what it keeps, which exists: the settings, and the state `status` wrote.
    assert (f"kept: {home.root}/.config/ecr-token-tray {home.root}/.local/state/ecr-token-tray"
            " (your settings, state and log;") in removed.stdout
    assert_only_kept_state_is_left(home, before)


def assert_only_kept_state_is_left(home, before: dict[str, str]) -> None:
    """HOME as before the install (Docker, AWS, app config intact), apart from the app's
    state folder, which the uninstaller names as kept."""
    after = tree(home.root)
    assert {path: entry for path, entry in after.items() if path in before} == before
    assert {path for path in set(after) - set(before)
            if not path.startswith(".local/state")} == set()


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
        # The bus knows the display, as a login session's does: services it starts on
        # demand (dunst for org.freedesktop.Notifications) then find it.
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


# -- a machine without a desktop ------------------------------------------------------------

def test_without_a_desktop_session_only_the_command_line_is_installed(lived_in_home):
    home = lived_in_home
    before = tree(home.root)
    installed = run_installer(home, "--no-system-packages", SHELL="/bin/bash")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    out = installed.stdout
    assert "no desktop session found: installed the command line only" in out
    for command in ("ecr-token-tray status", "ecr-token-tray watch", "ecr-token-tray prompt"):
        assert f"  {command} " in out
    assert f"  {REGISTRY.split('.')[0]} eu-central-1" in out  # it ran `status` once
    # ~/.local/bin is not on this PATH: the exact line for bash, and where it goes.
    assert "Add this line to ~/.bashrc, then open a" in out
    assert '  export PATH="$HOME/.local/bin:$PATH"' in out
    assert "tray started" not in out
    added = {path for path in set(tree(home.root)) - set(before)
             if not path.startswith(".local/share/ecr-token-tray/")}
    assert not [path for path in added if "applications" in path or "icons" in path
                or "autostart" in path or "systemd" in path], added
    program = home.root / ".local" / "bin" / "ecr-token-tray"
    assert run_program(program, "status", "--json", home=home).returncode == 0

    removed = run_installer(home, script=printed_uninstall_command(out, home))
    assert removed.returncode == 0, removed.stderr
    assert "menu entry" not in removed.stdout and "start at login" not in removed.stdout
    assert_only_kept_state_is_left(home, before)


# -- refusals: one clear line, nothing changed ----------------------------------------------

def test_python_older_than_3_11_is_refused_before_anything_changes(lived_in_home, tmp_path):
    before = tree(lived_in_home.root)
    python = old_python(tmp_path / "old-python")
    result = run_installer(lived_in_home, "--desktop", ECR_TOKEN_TRAY_PYTHON=str(python))
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"ecr-token-tray installer: {python} is Python 3.10.12; ecr-token-tray needs 3.11 or"
        " newer: install a newer Python, then re-run with"
        " ECR_TOKEN_TRAY_PYTHON=/path/to/python3.11 (nothing was changed)\n")
    assert tree(lived_in_home.root) == before


def test_a_real_python_3_10_is_refused_too(lived_in_home):
    found = real_pythons("3.10")
    if not found:
        pytest.skip("no real Python 3.10 on this machine (the stand-in test covers CI)")
    before = tree(lived_in_home.root)
    result = run_installer(lived_in_home, ECR_TOKEN_TRAY_PYTHON=str(found[0]))
    assert result.returncode == 1
    assert result.stderr.startswith(f"ecr-token-tray installer: {found[0]} is Python 3.10.")
    assert tree(lived_in_home.root) == before


def real_pythons(version: str) -> list[Path]:
    """Real interpreters of this version on this machine: pyenv's, /usr/local's, /usr/bin's."""
    user_home = Path(pwd.getpwuid(os.getuid()).pw_dir)  # HOME is the fake one here
    found = sorted(user_home.glob(f".pyenv/versions/{version}.*/bin/python{version}"))
    return found + [path for path in (Path(f"/usr/local/bin/python{version}"),
                                      Path(f"/usr/bin/python{version}")) if path.exists()]


@pytest.fixture
def unprivileged_home(tmp_path) -> Iterator[FakeHome]:
    """A HOME owned by `nobody`, in a folder that user can reach (pytest's tmp is 0700)."""
    root = Path(tempfile.mkdtemp(prefix="installer-nobody-"))
    try:
        root.chmod(0o755)
        home = FakeHome.create(root / "home")
        home.docker_config({REGISTRY: {"auth": docker_auth(300)}})
        for path in [home.root, *home.root.rglob("*")]:
            os.chown(path, 65534, 65534, follow_symlinks=False)
        yield home
    finally:
        shutil.rmtree(root)


def dpkg_database_without(package: str, directory: Path) -> Path:
    """A copy of this machine's dpkg database in which `package` is not installed."""
    directory.mkdir()
    (directory / "updates").mkdir()
    (directory / "info").mkdir()
    stanzas = Path("/var/lib/dpkg/status").read_text().split("\n\n")
    kept = [s for s in stanzas if not s.startswith(f"Package: {package}\n")]
    assert len(kept) == len(stanzas) - 1, f"{package} is not installed here: run .ci/setup.sh"
    (directory / "status").write_text("\n\n".join(kept))
    directory.chmod(0o755)
    for path in directory.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return directory


def path_without(tool: str, directory: Path) -> str:
    """A PATH holding every program of /usr/bin and /bin except `tool`."""
    directory.mkdir()
    for folder in (Path("/usr/bin"), Path("/bin")):
        for program in folder.iterdir():
            if program.name != tool and not (directory / program.name).exists():
                (directory / program.name).symlink_to(program)
    directory.chmod(0o755)
    return str(directory)


def test_without_sudo_a_non_root_user_gets_one_line_and_nothing_changes(unprivileged_home):
    if not shutil.which("setpriv") or not shutil.which("dpkg-query"):
        pytest.skip("needs setpriv and dpkg-query (Debian)")
    home = unprivileged_home
    before = tree(home.root)
    admin = dpkg_database_without("python3-gi", home.root.parent / "dpkg")
    env = {**home.full_env(), "DPKG_ADMINDIR": str(admin),
           "PATH": path_without("sudo", home.root.parent / "bin")}
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS"):
        env.pop(name, None)
    result = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--",
         "bash", str(INSTALLER), "--with-gtk"],
        env=env, capture_output=True, text=True, timeout=300, cwd=home.root)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout == ""
    assert result.stderr == (
        "ecr-token-tray installer: python3-gi must be installed (apt) but you are not root"
        " and there is no sudo: ask an administrator to run `apt install python3-gi`, then"
        " re-run with --no-system-packages (nothing was changed)\n")
    assert tree(home.root) == before


def test_another_python_gets_a_true_note_about_the_system_pygobject(lived_in_home, tmp_path):
    """ECR_TOKEN_TRAY_PYTHON that is not Debian's python3 cannot see python3-gi: say so,
    and do not send the user to apt or to drop --no-system-packages."""
    others = [python for version in ("3.13", "3.12", "3.11") for python in real_pythons(version)
              if not str(python).startswith("/usr/bin/")]
    if not others:
        pytest.skip("no Python 3.11+ besides /usr/bin's on this machine (pyenv, /usr/local)")
    python = others[0]
    result = run_installer(lived_in_home, "--desktop", "--with-gtk", "--no-start",
                           ECR_TOKEN_TRAY_PYTHON=str(python))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "installing system packages" not in result.stdout
    assert (f"note: {python} is not the system Python, so the venv cannot use the system's"
            in result.stdout)
    assert "without --no-system-packages" not in result.stdout
    venv_python = lived_in_home.root / ".local/share/ecr-token-tray/venv/bin/python"
    gi = subprocess.run([str(venv_python), "-I", "-c", "import gi"], capture_output=True,
                        timeout=60)
    assert gi.returncode != 0  # the note is true


# -- PATH -------------------------------------------------------------------------------------

SHELLS = {  # shell -> (how it starts a new terminal, the startup file --ensure-path edits)
    "bash": (["bash", "-l", "-c"], ".profile"),
    "zsh": (["zsh", "-i", "-c"], ".zshrc"),
    "fish": (["fish", "-c"], ".config/fish/config.fish"),
}


@pytest.mark.parametrize("shell", sorted(SHELLS))
def test_ensure_path_puts_the_command_on_the_shells_path(lived_in_home, shell):
    if not shutil.which(shell):
        pytest.fail(f"{shell} is missing: run .ci/setup.sh")
    home = lived_in_home
    result = run_installer(home, "--no-system-packages", "--cli-only", "--ensure-path",
                           SHELL=shutil.which(shell))
    assert result.returncode == 0, result.stdout + result.stderr
    argv, startup = SHELLS[shell]
    assert f"added {home.root}/.local/bin to PATH in {home.root}/{startup}" in result.stdout
    env = {**home.full_env(), "PATH": "/usr/bin:/bin", "SHELL": shutil.which(shell)}
    found = subprocess.run([*argv, "command -v ecr-token-tray"], env=env, capture_output=True,
                           text=True, timeout=60, cwd=home.root, stdin=subprocess.DEVNULL)
    assert found.stdout.strip() == f"{home.root}/.local/bin/ecr-token-tray", found.stderr
    again = run_installer(home, "--no-system-packages", "--cli-only", "--ensure-path",
                          SHELL=shutil.which(shell))
    assert "added" not in again.stdout  # once is enough
    removed = run_installer(home, "--uninstall")
    assert f"kept: the PATH line --ensure-path added to {home.root}/{startup}" in (
        removed.stdout.replace(f"{home.root}/.bashrc ", ""))


# -- upgrades keep the tray running -------------------------------------------------------------

def environ_of(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


def the_running_tray(home, venv: Path, session: dict[str, str], not_pid: int = 0) -> int:
    """The one tray from the venv, holding the one-tray lock, in the desktop session."""
    trays = wait_for(lambda: {pid: argv for pid, argv in venv_processes(venv).items()
                              if pid != not_pid})
    assert len(trays) == 1, trays
    (pid,) = trays
    lock = Path(home.env["XDG_RUNTIME_DIR"]) / "ecr-token-tray.lock"
    assert wait_for(lambda: lock.exists() and lock.read_text().strip() == str(pid))
    environ = environ_of(pid)
    assert environ.get("DISPLAY") == session["DISPLAY"]
    assert environ.get("DBUS_SESSION_BUS_ADDRESS") == session["DBUS_SESSION_BUS_ADDRESS"]
    return pid


def no_desktop() -> dict[str, str]:
    """A shell without the session's variables (SSH, a TTY, cron): "" unsets them."""
    return {"DISPLAY": "", "WAYLAND_DISPLAY": "", "DBUS_SESSION_BUS_ADDRESS": ""}


def test_an_upgrade_from_a_shell_without_display_restarts_the_tray_in_its_session(
        lived_in_home, desktop_session):
    home = lived_in_home
    venv = home.root / ".local" / "share" / "ecr-token-tray" / "venv"
    installed = run_installer(home, "--no-system-packages", **desktop_session)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    first = the_running_tray(home, venv, desktop_session)

    upgraded = run_installer(home, "--no-system-packages", **no_desktop())
    assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
    assert f"stopping the running tray (pid {first})" in upgraded.stdout
    assert f"desktop session of the running tray (pid {first}))" in upgraded.stdout
    assert wait_for(lambda: not Path(f"/proc/{first}").exists(), timeout=10)
    the_running_tray(home, venv, desktop_session, not_pid=first)
    run_installer(home, "--uninstall", **no_desktop())
    assert wait_for(lambda: not venv_processes(venv), timeout=10)


def test_a_failed_upgrade_brings_the_old_version_back_and_restarts_its_tray(
        lived_in_home, desktop_session, tmp_path):
    home = lived_in_home
    venv = home.root / ".local" / "share" / "ecr-token-tray" / "venv"
    installed = run_installer(home, "--no-system-packages", **desktop_session)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    first = the_running_tray(home, venv, desktop_session)
    old_venv = tree(venv)

    # Offline: pip reaches no index (and no local wheels), so building the app fails.
    (tmp_path / "no-wheels").mkdir()
    failed = run_installer(home, "--no-system-packages", **no_desktop(), PIP_NO_INDEX="1",
                           PIP_FIND_LINKS=str(tmp_path / "no-wheels"),
                           PIP_CONFIG_FILE="/dev/null")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert failed.stderr.splitlines()[-1] == (
        "ecr-token-tray installer: installing the new version failed (see above); the"
        " previous version (ecr-token-tray 0.1.0) is still installed")
    assert "tray started (pid " in failed.stdout
    second = the_running_tray(home, venv, desktop_session, not_pid=first)
    assert tree(venv) == old_venv
    assert not (venv.parent / "venv.previous").exists()
    assert environ_of(second).get("DISPLAY") == desktop_session["DISPLAY"]
    run_installer(home, "--uninstall", **no_desktop())
    assert wait_for(lambda: not venv_processes(venv), timeout=10)


# -- other commands from the venv are not the tray ----------------------------------------------

@pytest.fixture
def x_display() -> Iterator[str]:
    """A bare X display (Xvfb) for a terminal's `watch`: no tray, no panel, no bus."""
    read_end, write_end = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write_end), "-screen", "0", "640x100x24",
                             "-nolisten", "tcp"], pass_fds=(write_end,),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_end)
    try:
        with os.fdopen(read_end) as display_pipe:
            yield f":{display_pipe.readline().strip()}"
    finally:
        xvfb.terminate()
        xvfb.wait(timeout=10)


def test_an_upgrade_takes_a_running_watch_neither_for_the_tray_nor_for_the_session(
        lived_in_home, x_display, tmp_path):
    home = lived_in_home
    venv = home.root / ".local" / "share" / "ecr-token-tray" / "venv"
    installed = run_installer(home, "--no-system-packages", "--no-start", "--desktop")
    assert installed.returncode == 0, installed.stdout + installed.stderr

    # `watch` in a desktop terminal; no tray runs.
    with open(tmp_path / "watch.out", "w") as out:
        watch = subprocess.Popen([str(venv / "bin" / "ecr-token-tray"), "watch"],
                                 env={**home.full_env(), "DISPLAY": x_display},
                                 stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                 cwd=home.root)
    try:
        assert wait_for(lambda: [argv[-1] for argv in venv_processes(venv).values()]
                        == ["watch"])

        upgraded = run_installer(home, "--no-system-packages", **no_desktop())
        assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
        assert "stopping the running tray" not in upgraded.stdout
        assert (f"stopping other ecr-token-tray processes from {venv} (pid {watch.pid})"
                in upgraded.stdout)  # its programs are replaced
        assert "tray started" not in upgraded.stdout
        assert "no desktop session is running: the tray starts at your next desktop login" \
            in upgraded.stdout
        watch.wait(timeout=10)
        assert wait_for(lambda: not venv_processes(venv), timeout=10)
    finally:
        if watch.poll() is None:
            watch.terminate()
            watch.wait(timeout=10)
        run_installer(home, "--uninstall", **no_desktop())


def test_uninstall_with_a_broken_venv_removes_the_systemd_unit(lived_in_home):
    home = lived_in_home
    venv = home.root / ".local" / "share" / "ecr-token-tray" / "venv"
    installed = run_installer(home, "--no-system-packages", "--no-start", "--cli-only")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    # The unit `autostart enable` writes on sway/Hyprland/i3, written by the installed app.
    user_units = home.root / ".config" / "systemd" / "user"
    written = subprocess.run(
        [str(venv / "bin" / "python"), "-I", "-c",
         "import sys\nfrom tray_app import autostart_wm as wm\n"
         "print(wm.unit_path()); print(wm.systemd_unit([sys.argv[1], 'tray']), end='')",
         str(venv / "bin" / "ecr-token-tray")],
        env=home.full_env(), capture_output=True, text=True, timeout=60, check=True)
    path, text = written.stdout.split("\n", 1)
    unit = user_units / "ecr-token-tray.service"
    assert Path(path) == unit
    unit.parent.mkdir(parents=True)
    unit.write_text(text)
    wants = user_units / "graphical-session.target.wants" / "ecr-token-tray.service"
    wants.parent.mkdir()
    wants.symlink_to(unit)
    # Someone else's unit beside it stays.
    other = user_units / "other.service"
    other.write_text("[Service]\nExecStart=/usr/bin/true\n")

    for python in (venv / "bin").glob("python*"):
        python.unlink()  # the venv is broken: its program cannot run
    removed = run_installer(home, "--uninstall")
    assert removed.returncode == 0, removed.stdout + removed.stderr
    assert not unit.exists() and not wants.is_symlink()
    assert other.read_text() == "[Service]\nExecStart=/usr/bin/true\n"


def test_upgrade_and_uninstall_keep_every_wrapper_dockers_config_names(lived_in_home):
    """Issue 18, defect 2: Docker runs `credhelper` wrappers for the hosts config.json maps
    to them. The app writes them to ~/.local/bin, which the installer leaves alone; one an
    older version wrote into the venv's bin moves there before an upgrade or the uninstaller
    removes the venv, and one config.json does not name goes with it."""
    home = lived_in_home
    if shutil.which("docker-credential-ecr-login") is None:
        pytest.skip("needs docker-credential-ecr-login")
    venv = home.root / ".local" / "share" / "ecr-token-tray" / "venv"
    local_bin = home.root / ".local" / "bin"
    installed = run_installer(home, "--no-system-packages", "--no-start", "--cli-only")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    home.app_config(f'[registries."{REGISTRY}"]\nprofile = "dev"\n')
    enabled = run_program(local_bin / "ecr-token-tray", "credhelper", "enable", REGISTRY,
                          "--no-verify", home=home)
    assert enabled.returncode == 0, enabled.stdout + enabled.stderr
    ours = local_bin / "docker-credential-ecr-login-dev"
    written = ours.read_bytes()

    def left_by_an_older_version(account: str, *profiles: str) -> str:
        """Wrappers in the venv's bin, as versions before issue 18 wrote them; config.json
        maps the account's registry to the first one."""
        text = "#!/bin/sh\n# written by ecr-token-tray credhelper: old\nexec true\n"
        for profile in profiles:
            (venv / "bin" / f"docker-credential-ecr-login-{profile}").write_text(text)
        document = json.loads(home.docker_config_path.read_text())
        document["credHelpers"][host(account, "us-west-2")] = f"ecr-login-{profiles[0]}"
        home.write_json(home.docker_config_path, document)
        return text

    old_text = left_by_an_older_version("333333333333", "old", "unused")
    upgraded = run_installer(home, "--no-system-packages", "--no-start", "--cli-only")
    assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
    assert f"moved docker-credential-ecr-login-old to {local_bin}" in upgraded.stdout
    assert (local_bin / "docker-credential-ecr-login-old").read_text() == old_text
    assert not (local_bin / "docker-credential-ecr-login-unused").exists()
    assert not (venv / "bin" / "docker-credential-ecr-login-unused").exists()  # a new venv

    left_by_an_older_version("444444444444", "older")
    config_before = home.docker_config_path.read_bytes()
    removed = run_installer(home, "--uninstall")

    assert removed.returncode == 0, removed.stdout + removed.stderr
    assert ours.read_bytes() == written
    assert f"moved docker-credential-ecr-login-older to {local_bin}" in removed.stdout
    kept = sorted(local_bin.glob("docker-credential-ecr-login-*"))
    assert [p.name for p in kept] == ["docker-credential-ecr-login-dev",
                                      "docker-credential-ecr-login-old",
                                      "docker-credential-ecr-login-older"]
    assert f"kept: {' '.join(map(str, kept))} (credential-helper wrappers" in removed.stdout
    assert not venv.exists()
    assert home.docker_config_path.read_bytes() == config_before


# -- another install's ~/.local/bin/ecr-token-tray (issue 18, defect 9) -----------------------
TOOLS = Path(sys.executable).parent  # pipx and uv from the test extra


@pytest.fixture(scope="session")
def app_wheel(tmp_path_factory) -> Path:
    """The project's wheel (`pip wheel` of a copy of the files the build reads)."""
    source = tmp_path_factory.mktemp("wheel-source")
    for name in ("pyproject.toml", "DESCRIPTION.md", "LICENSE"):
        shutil.copy2(REPO_ROOT / name, source / name)
    shutil.copytree(REPO_ROOT / "tray_app", source / "tray_app",
                    ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("wheel")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                            str(out), str(source)], capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr
    (found,) = out.glob("*.whl")
    return found


def pipx(home, *args: str) -> subprocess.CompletedProcess:
    env = home.full_env()
    for name in ("VIRTUAL_ENV", "PYTHONPATH", "PIPX_HOME", "PIPX_BIN_DIR"):
        env.pop(name, None)
    return subprocess.run([str(TOOLS / "pipx"), *args], env=env, capture_output=True,
                          text=True, timeout=600, cwd=home.root)


def run_installer_in_a_terminal(home, *args: str, answer: str) -> tuple[int, str]:
    """The installer with a terminal on stdin and stderr (a pty), typing ``answer``."""
    import pty

    leader, follower = pty.openpty()
    env = {k: v for k, v in home.full_env().items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    process = subprocess.Popen([str(INSTALLER), *args], stdin=follower, stderr=follower,
                               stdout=subprocess.PIPE, env=env, cwd=home.root)
    os.close(follower)
    os.write(leader, answer.encode())
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # EIO: the installer closed the terminal (it exited)
            break
        if not chunk:
            break
        seen += chunk
    process.stdout.read()
    os.close(leader)
    return process.wait(timeout=60), seen.decode(errors="replace")


def test_a_pipx_install_s_link_is_not_taken_over(lived_in_home, app_wheel):
    """pipx made ~/.local/bin/ecr-token-tray: the installer stops and says what it is and
    what to do; in a terminal it asks; --replace-link replaces only the link."""
    home = lived_in_home
    made = pipx(home, "install", "--python", "/usr/bin/python3", str(app_wheel))
    assert made.returncode == 0, made.stdout + made.stderr
    link = home.root / ".local" / "bin" / "ecr-token-tray"
    target = os.readlink(link)
    assert "/pipx/venvs/ecr-token-tray/" in target
    before = tree(home.root)

    refused = run_installer(home, "--no-system-packages", "--no-start")
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        f"ecr-token-tray installer: {link} is pipx's link to {target} (ecr-token-tray"
        " installed with pipx); nothing was changed: run `pipx uninstall ecr-token-tray`"
        " first, or re-run with --replace-link to point the link at this install instead")
    assert tree(home.root) == before

    code, terminal = run_installer_in_a_terminal(home, "--no-system-packages", "--no-start",
                                                 answer="n\n")
    assert code == 1
    assert f"{link} is pipx's link to {target}" in terminal
    assert "Replace it with a link to this install? [y/N]" in terminal
    assert tree(home.root) == before

    replaced = run_installer(home, "--no-system-packages", "--no-start", "--replace-link")
    assert replaced.returncode == 0, replaced.stdout + replaced.stderr
    venv = home.root / ".local" / "share" / "ecr-token-tray" / "venv"
    assert os.readlink(link) == str(venv / "bin" / "ecr-token-tray")
    assert f"replaced {link}, pipx's link to {target}" in replaced.stdout
    # pipx's own uninstall then leaves this install's link alone
    assert pipx(home, "uninstall", "ecr-token-tray").returncode == 0
    assert os.readlink(link) == str(venv / "bin" / "ecr-token-tray")
    assert run_program(link, "--version", home=home).returncode == 0
    uninstalled = run_installer(home, "--uninstall")
    assert uninstalled.returncode == 0 and not os.path.lexists(link)


def test_a_uv_tool_link_and_a_pip_user_script_are_named(lived_in_home, app_wheel):
    home = lived_in_home
    link = home.root / ".local" / "bin" / "ecr-token-tray"
    env = {k: v for k, v in home.full_env().items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "UV_TOOL_DIR", "UV_TOOL_BIN_DIR")}
    made = subprocess.run([str(TOOLS / "uv"), "tool", "install", "--python", "/usr/bin/python3",
                           str(app_wheel)], env=env, capture_output=True, text=True,
                          timeout=600, cwd=home.root)
    assert made.returncode == 0, made.stdout + made.stderr
    target = os.readlink(link)
    assert "/uv/tools/ecr-token-tray/" in target
    before = tree(home.root)
    refused = run_installer(home, "--no-system-packages", "--no-start")
    assert (refused.returncode, tree(home.root)) == (1, before)
    assert refused.stderr.strip() == (
        f"ecr-token-tray installer: {link} is uv's link to {target} (ecr-token-tray"
        " installed with `uv tool install`); nothing was changed: run `uv tool uninstall"
        " ecr-token-tray` first, or re-run with --replace-link to point the link at this"
        " install instead")
    replaced = run_installer(home, "--no-system-packages", "--no-start", "--replace-link")
    assert replaced.returncode == 0, replaced.stdout + replaced.stderr
    assert "`uv tool uninstall ecr-token-tray` would delete this link too: re-run this" \
        " installer after it" in replaced.stdout
    ours = os.readlink(link)
    assert ours.endswith("/.local/share/ecr-token-tray/venv/bin/ecr-token-tray")
    # what the note warns about, with the real uv
    subprocess.run([str(TOOLS / "uv"), "tool", "uninstall", "ecr-token-tray"], env=env,
                   capture_output=True, timeout=120, cwd=home.root, check=True)
    assert not os.path.lexists(link)
    assert run_installer(home, "--uninstall").returncode == 0

    # what `pip install --user` writes: a script, not a link
    link.write_text("#!/usr/bin/python3\nimport sys\nfrom tray_app.cli import main\n"
                    "sys.exit(main())\n")
    before = tree(home.root)
    refused = run_installer(home, "--no-system-packages", "--no-start", "--replace-link")
    assert (refused.returncode, tree(home.root)) == (1, before)
    assert refused.stderr.strip() == (
        f"ecr-token-tray installer: {link} is the ecr-token-tray that pip installed (pip"
        " install --user): run `pip uninstall ecr-token-tray` first, then re-run")
