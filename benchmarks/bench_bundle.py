"""5. Start-up to a docked icon: the Linux PyInstaller bundle and the installed app.

Each program is started on Xvfb + trayer (gtk) and timed from spawn until one of its
windows is embedded in trayer's panel (xdotool search --pid, xwininfo -tree). The bundle
is built by installer/pyinstaller/build.sh; the installed app by installer/linux/install.sh
(--no-system-packages --no-start) into a temporary HOME, as the installer tests do. The
floor is the minimal pystray icon (benchmarks/floor_tray.py) started the same way.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from benchmarks.common import REPO_ROOT, BenchResult, Context, ratio
from benchmarks.measure import median

NAME = "bundle"
TITLE = "5. Start-up to a docked icon: Linux bundle and installed app"
BUILD_SCRIPT = REPO_ROOT / "installer" / "pyinstaller" / "build.sh"
INSTALLER = REPO_ROOT / "installer" / "linux" / "install.sh"
PIP_CACHE = Path.home() / ".cache" / "ecr-token-tray-benchmarks" / "pip"


def build_bundle(ctx: Context) -> tuple[Path | None, str]:
    out = ctx.workdir / "bundle"
    started = time.monotonic()
    run = subprocess.run(["bash", str(BUILD_SCRIPT), str(out)], capture_output=True, text=True,
                         timeout=1200, env={**os.environ, "PYTHON": ctx.python})
    program = out / "ecr-token-tray" / "ecr-token-tray"
    if run.returncode != 0 or not program.exists():
        return None, f"build.sh failed: {(run.stdout + run.stderr).strip()[-300:]}"
    size = sum(f.stat().st_size for f in program.parent.rglob("*") if f.is_file())
    return program, (f"bundle built in {time.monotonic() - started:.0f} s,"
                     f" {size / 2**20:.0f} MiB on disk")


def install_app(ctx: Context, home) -> tuple[Path | None, str]:
    env = home.full_env(PIP_CACHE_DIR=str(PIP_CACHE))
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "VIRTUAL_ENV", "PYTHONPATH",
                 "DBUS_SESSION_BUS_ADDRESS"):
        env.pop(name, None)
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep)
                                  if "/.cargo/" not in p + "/")
    started = time.monotonic()
    run = subprocess.run(["bash", str(INSTALLER), "--no-system-packages", "--no-start"],
                         env=env, capture_output=True, text=True, timeout=1200, cwd=home.root)
    program = home.root / ".local" / "bin" / "ecr-token-tray"
    if run.returncode != 0 or not program.exists():
        return None, f"install.sh failed: {(run.stdout + run.stderr).strip()[-300:]}"
    return program, f"installed in {time.monotonic() - started:.0f} s (pip cache {PIP_CACHE})"


def time_to_dock(desktop, argv: list[str], env: dict[str, str], cwd: Path) -> float:
    """Spawn, wait until docked, stop; seconds from spawn to docked."""
    from benchmarks.desktop import docked

    started = time.monotonic()
    process = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        while not docked(desktop, _family(process.pid)):
            if process.poll() is not None:
                raise RuntimeError(f"{argv[0]} exited ({process.returncode}) before docking")
            if time.monotonic() - started > 120:
                raise RuntimeError(f"{argv[0]}: no docked icon within 120 s")
            time.sleep(0.01)
        return time.monotonic() - started
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def _family(pid: int) -> set[int]:
    """pid and its descendants (a one-file bundle runs the app in a child)."""
    from benchmarks.measure import child_pids

    family, frontier = {pid}, [pid]
    while frontier:
        children = child_pids(frontier.pop())
        frontier += list(children - family)
        family |= children
    return family


def run(ctx: Context) -> BenchResult:
    result = BenchResult(NAME, TITLE)
    from benchmarks.bench_tray import FLOOR_SCRIPT
    from benchmarks.bench_tray import missing_parts as tray_missing

    reason = tray_missing(ctx)
    if reason:
        result.skipped = reason
        return result
    if not BUILD_SCRIPT.exists() and not INSTALLER.exists():
        result.skipped = "neither installer/pyinstaller/build.sh nor installer/linux/install.sh"
        return result
    from benchmarks.bench_status import build_home
    from benchmarks.desktop import running_desktop

    starts = 2 if ctx.quick else 5
    programs: dict[str, Path] = {}
    if BUILD_SCRIPT.exists():
        bundle, note = build_bundle(ctx)
        result.notes.append(note)
        if bundle:
            programs["Linux bundle (PyInstaller, one folder)"] = bundle
        else:
            result.problems.append(note)
    home = build_home(ctx.workdir / "bundle-home", 20, soonest_minutes=180)
    if INSTALLER.exists():
        installed, note = install_app(ctx, home)
        result.notes.append(note)
        if installed:
            programs["installed by install.sh (system Python + PyGObject)"] = installed
        else:
            result.problems.append(note)
    with running_desktop(ctx.workdir / "bundle-desktop") as desktop:
        env = ctx.child_env(home.full_env(**desktop.env, PYSTRAY_BACKEND="gtk"))
        env.pop("PYTHONPATH", None)  # the bundle and the installed app bring their own code
        floor_env = {**env, "GDK_GL": "disable"}
        floor = [ctx.python, str(FLOOR_SCRIPT)]
        times: dict[str, list[float]] = {"floor": [], **{name: [] for name in programs}}
        for index in range(starts + 1):  # the first round warms the page cache, not counted
            measured = {"floor": time_to_dock(desktop, floor, floor_env, home.root)}
            for name, program in programs.items():
                measured[name] = time_to_dock(desktop, [str(program), "tray"], env, home.root)
            if index:
                for name, seconds in measured.items():
                    times[name].append(seconds)
    floor_time = median(times["floor"])
    for name in programs:
        value = median(times[name])
        result.add(f"start-up to docked icon: {name}", f"{value:.2f} s",
                   f"{floor_time:.2f} s (minimal pystray icon, venv)", ratio(value, floor_time))
    result.notes.append(
        f"{starts} starts each after one warm-up start (page cache warm); medians. Each"
        " process is stopped before the next starts (the tray allows one instance).")
    return result
