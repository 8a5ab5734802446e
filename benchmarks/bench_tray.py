"""2. The idle tray: the gtk fallback on Xvfb + trayer, and the native freedesktop tray, both
against a minimal pystray gtk icon (the floor any GTK-based Python tray costs).

gtk: the tray and the floor run at once on the same desktop, backend, interpreter and
environment. native: the app as users install it (a wheel in a fresh plain venv, no
system site packages, so no PyGObject) on a private session bus whose panel is
tests/sni_watcher.py --host (it registers the item and reads every property and the menu
after each change, as waybar does); dbus-monitor counts the messages to and from the item.
Once docked/registered and settled, each idle window reads, per process, /proc/<pid>/stat
(utime+stime of all threads; cutime+cstime of reaped children), /proc/<pid>/status (VmRSS,
VmHWM), and samples /proc/<pid>/task/*/children every 20 ms. Every AWS endpoint the SDK
could use points at a counter that counts any request.
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common import REPO_ROOT, BenchResult, Context, mib, ratio
from benchmarks.measure import (
    ChildWatch,
    median,
    proc_children_cpu_seconds,
    proc_cpu_seconds,
    proc_memory_kb,
    proc_threads,
)

NAME = "tray"
TITLE = "2. Idle tray (native StatusNotifierItem; gtk on Xvfb + trayer) vs a minimal pystray icon"
REGISTRIES = 20
IDLE_SOONEST_MINUTES = 180  # no login near a warning: nothing to alert or renew while idle
TARGET_RSS_RATIO = 1.3
TARGET_CPU_PER_MINUTE = 0.5
NATIVE_TARGET_RSS_RATIO = 0.7  # at least 30 % below any GTK-based Python tray
NATIVE_TARGET_CPU_PER_MINUTE = 0.2
FLOOR_SCRIPT = Path(__file__).with_name("floor_tray.py")


@dataclass
class IdleWindow:
    seconds: float
    cpu_s: float
    reaped_children_cpu_s: float
    rss_kb: int
    hwm_kb: int
    threads: int
    children: set[int]

    @property
    def cpu_per_minute(self) -> float:
        return self.cpu_s / self.seconds * 60


def missing_parts(ctx: Context) -> str | None:
    from benchmarks.desktop import missing_tools

    absent = missing_tools()
    if absent:
        return f"missing desktop tools: {', '.join(absent)}"
    # pystray itself needs a display to import: only check that it is installed
    probe = subprocess.run([ctx.python, "-c", "import gi, PIL, importlib.util, tray_app.ui.tray"
                            "\nassert importlib.util.find_spec('pystray'), 'no pystray'"],
                           capture_output=True, text=True, timeout=60, cwd=REPO_ROOT)
    if probe.returncode != 0:
        return ("the tray or its GUI libraries are not importable:"
                f" {probe.stderr.strip().splitlines()[-1][:160]}")
    return None


def wait_docked(desktop, process: subprocess.Popen, name: str, timeout: float = 60.0) -> float:
    """Seconds from now until ``process`` has a window inside trayer's panel."""
    from benchmarks.desktop import docked

    start = time.monotonic()
    while not docked(desktop, {process.pid}):
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode} before docking")
        if time.monotonic() - start > timeout:
            raise RuntimeError(f"{name}: no docked icon within {timeout:.0f} s")
        time.sleep(0.02)
    return time.monotonic() - start


def measure_idle(pids: dict[str, int], seconds: float) -> dict[str, IdleWindow]:
    """One idle window for several processes at once."""
    cpu0 = {name: proc_cpu_seconds(pid) for name, pid in pids.items()}
    reaped0 = {name: proc_children_cpu_seconds(pid) for name, pid in pids.items()}
    watches = {name: ChildWatch(pid) for name, pid in pids.items()}
    for watch in watches.values():
        watch.__enter__()
    start = time.monotonic()
    time.sleep(seconds)
    elapsed = time.monotonic() - start
    for watch in watches.values():
        watch.__exit__(None, None, None)
    windows = {}
    for name, pid in pids.items():
        memory = proc_memory_kb(pid)
        windows[name] = IdleWindow(
            seconds=elapsed, cpu_s=proc_cpu_seconds(pid) - cpu0[name],
            reaped_children_cpu_s=proc_children_cpu_seconds(pid) - reaped0[name],
            rss_kb=memory["VmRSS"], hwm_kb=memory["VmHWM"], threads=proc_threads(pid),
            children=watches[name].seen | _children_now(pid))
    return windows


def _children_now(pid: int) -> set[int]:
    from benchmarks.measure import child_pids
    return child_pids(pid)


def run(ctx: Context) -> BenchResult:
    result = BenchResult(NAME, TITLE)
    missing = missing_parts(ctx)
    if missing:
        result.skipped = missing
        return result
    floor_rss = run_gtk(ctx, result)
    run_native(ctx, result, floor_rss)
    return result


def run_gtk(ctx: Context, result: BenchResult) -> float:
    """The gtk fallback next to the floor; returns the floor's idle RSS (KiB)."""
    from benchmarks.aws_counter import counting_aws_endpoint
    from benchmarks.bench_status import build_home, entry_point
    from benchmarks.desktop import running_desktop

    window = 10.0 if ctx.quick else 60.0
    rounds = 1 if ctx.quick else 3
    settle = 3.0 if ctx.quick else 10.0
    home = build_home(ctx.workdir / "tray-home", REGISTRIES, soonest_minutes=IDLE_SOONEST_MINUTES)
    logs = ctx.workdir / "tray-logs"
    logs.mkdir(parents=True, exist_ok=True)
    with counting_aws_endpoint() as aws, running_desktop(ctx.workdir / "desktop") as desktop:
        env = ctx.child_env(home.full_env(**desktop.env, **aws.env(), PYSTRAY_BACKEND="gtk"))
        processes: dict[str, subprocess.Popen] = {}
        try:
            started = time.monotonic()
            processes["tray"] = subprocess.Popen(
                [ctx.python, *entry_point(ctx), "tray"], env=env, cwd=home.root,
                stdout=(logs / "tray.out").open("w"), stderr=subprocess.STDOUT)
            wait_docked(desktop, processes["tray"], "the tray")
            tray_dock = time.monotonic() - started
            started = time.monotonic()
            processes["floor"] = subprocess.Popen(
                [ctx.python, str(FLOOR_SCRIPT)], env={**env, "GDK_GL": "disable"}, cwd=home.root,
                stdout=(logs / "floor.out").open("w"), stderr=subprocess.STDOUT)
            wait_docked(desktop, processes["floor"], "the floor icon")
            floor_dock = time.monotonic() - started
            time.sleep(settle)
            aws_before_idle = aws.count
            pids = {name: process.pid for name, process in processes.items()}
            windows = [measure_idle(pids, window) for _ in range(rounds)]
            aws_idle = aws.count - aws_before_idle
            alive = {name: process.poll() is None for name, process in processes.items()}
        finally:
            for process in processes.values():
                process.terminate()
            for process in processes.values():
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
        aws_total = aws.count
    if not all(alive.values()):
        result.problems.append(f"a process died during the idle window: {alive}; see"
                               f" {(logs / 'tray.out').read_text()[-300:]}")

    def med(name: str, attribute: str) -> float:
        return median([getattr(w[name], attribute) for w in windows])

    rss, floor_rss = med("tray", "rss_kb"), med("floor", "rss_kb")
    cpu, floor_cpu = med("tray", "cpu_per_minute"), med("floor", "cpu_per_minute")
    children = set().union(*(w["tray"].children for w in windows))
    reaped = sum(w["tray"].reaped_children_cpu_s for w in windows)
    result.add("idle tray: RSS", mib(rss), f"{mib(floor_rss)} (minimal pystray icon)",
               ratio(rss, floor_rss), f"<= {TARGET_RSS_RATIO:g}x",
               rss / floor_rss <= TARGET_RSS_RATIO)
    result.add("idle tray: CPU per idle minute", f"{cpu:.3f} s",
               f"{floor_cpu:.3f} s (minimal pystray icon)", ratio(cpu, floor_cpu),
               f"< {TARGET_CPU_PER_MINUTE:g} s", cpu < TARGET_CPU_PER_MINUTE)
    result.add("idle tray: AWS requests while idle", str(aws_idle), target="0",
               met=aws_idle == 0)
    result.add("idle tray: child processes while idle", str(len(children)), target="0",
               met=not children and reaped == 0)
    result.add("tray start-up to docked icon (from source)", f"{tray_dock:.2f} s",
               f"{floor_dock:.2f} s (minimal pystray icon)", ratio(tray_dock, floor_dock))
    result.notes += [
        f"{rounds} idle window(s) of {window:g} s after both icons docked and {settle:g} s of"
        f" settling; HOME with {REGISTRIES} ECR logins expiring in {IDLE_SOONEST_MINUTES // 60} h"
        " to 12 h (no alert or renewal due) and SSO profiles; medians over the windows.",
        f"Peak RSS (VmHWM): tray {mib(med('tray', 'hwm_kb'))}, floor"
        f" {mib(med('floor', 'hwm_kb'))}. Threads: tray {windows[-1]['tray'].threads},"
        f" floor {windows[-1]['floor'].threads}.",
        f"Children: sampled every 20 ms plus cutime/cstime of reaped children"
        f" ({reaped:.2f} s); AWS requests over the whole run, start-up included: {aws_total}.",
        "Start-up to docked icon: spawn until a window of the process is embedded in"
        " trayer's panel (xdotool search --pid, xwininfo -tree); the tray and the floor"
        " start one after the other.",
        f"Python {sys.version.split()[0]}, PYSTRAY_BACKEND=gtk (Gtk.StatusIcon, XEmbed). The"
        " floor runs with GDK_GL=disable, which the tray sets for itself while GTK starts:"
        " otherwise GDK's GLX probe may map Mesa's llvmpipe (~50 MiB RSS) into either process"
        " at random, and the floor would measure Mesa, not pystray.",
    ]
    return floor_rss


def run_native(ctx: Context, result: BenchResult, floor_rss: float) -> None:
    """The native tray from a wheel in a fresh plain venv, on a private bus with a panel."""
    import shutil

    from benchmarks.aws_counter import counting_aws_endpoint
    from benchmarks.bench_status import build_home
    from benchmarks.installed import install_wheel, plain_env
    from tests.sni_support import private_bus, stop

    absent = [tool for tool in ("dbus-daemon", "dbus-monitor", "dbus-send")
              if shutil.which(tool) is None]
    if absent:
        result.notes.append(f"native tray not measured: missing {', '.join(absent)}")
        return
    app = install_wheel(ctx.workdir / "native-install")
    if not app.with_dependencies:
        result.problems.append("native tray: pip could not install the wheel's dependencies")
        return
    window = 10.0 if ctx.quick else 60.0
    rounds = 1 if ctx.quick else 3
    settle = 3.0 if ctx.quick else 10.0
    home = build_home(ctx.workdir / "native-home", REGISTRIES,
                      soonest_minutes=IDLE_SOONEST_MINUTES)
    logs = ctx.workdir / "native-logs"
    logs.mkdir(parents=True, exist_ok=True)
    with counting_aws_endpoint() as aws, private_bus(logs / "bus") as address:
        bus_env = {"DBUS_SESSION_BUS_ADDRESS": address}
        panel = subprocess.Popen([ctx.python, "-m", "tests.sni_watcher", "--host"],
                                 env=ctx.child_env({**home.full_env(), **bus_env}),
                                 cwd=REPO_ROOT, stdout=(logs / "panel.out").open("w"),
                                 stderr=subprocess.STDOUT)
        tray = monitor = None
        try:
            _wait_for(lambda: "ready" in (logs / "panel.out").read_text(), 30, "the panel")
            env = plain_env(home.full_env(**bus_env, **aws.env(), DISPLAY="",
                                          WAYLAND_DISPLAY="wayland-bench"))
            started = time.monotonic()
            tray = subprocess.Popen([app.script, "tray"], env=env, cwd=home.root,
                                    stdout=(logs / "tray.out").open("w"),
                                    stderr=subprocess.STDOUT)
            name = f"org.kde.StatusNotifierItem-{tray.pid}-1"
            _wait_for(lambda: "registered " in (logs / "panel.out").read_text(), 60,
                      "the native item to register")
            registered = time.monotonic() - started
            time.sleep(settle)
            owner = _name_owner(address, name)
            monitor = subprocess.Popen(["dbus-monitor", "--address", address, "--profile"],
                                       stdout=(logs / "monitor.out").open("w"),
                                       stderr=subprocess.DEVNULL)
            time.sleep(1.0)  # the monitor is attached
            aws_before = aws.count
            watched_from = time.monotonic()
            windows = [measure_idle({"native": tray.pid}, window) for _ in range(rounds)]
            watched = time.monotonic() - watched_from
            monitor.terminate()
            monitor.wait(10)
            aws_idle = aws.count - aws_before
            alive = tray.poll() is None
        finally:
            for process in (monitor, tray, panel):
                if process is not None:
                    stop(process)
    if not alive:
        result.problems.append("the native tray died during the idle window: "
                               + (logs / "tray.out").read_text()[-300:])
    messages = _messages_of(owner, (logs / "monitor.out").read_text())
    per_minute = len(messages) / watched * 60
    rss = median([w["native"].rss_kb for w in windows])
    cpu = median([w["native"].cpu_per_minute for w in windows])
    children = set().union(*(w["native"].children for w in windows))
    result.add("native tray (wheel, plain venv): idle RSS", mib(rss),
               f"{mib(floor_rss)} (minimal pystray gtk icon)", ratio(rss, floor_rss),
               f"<= {NATIVE_TARGET_RSS_RATIO:g}x", rss / floor_rss <= NATIVE_TARGET_RSS_RATIO)
    result.add("native tray: CPU per idle minute", f"{cpu:.3f} s", target=
               f"< {NATIVE_TARGET_CPU_PER_MINUTE:g} s", met=cpu < NATIVE_TARGET_CPU_PER_MINUTE)
    result.add("native tray: D-Bus messages per idle minute (item <-> panel)",
               f"{per_minute:.1f}")
    result.add("native tray: AWS requests and child processes while idle",
               f"{aws_idle} / {len(children)}", target="0 / 0",
               met=aws_idle == 0 and not children)
    result.add("native tray: start-up to registered item (wheel)", f"{registered:.2f} s")
    kinds: dict[str, int] = {}
    for member in messages:
        kinds[member] = kinds.get(member, 0) + 1
    result.notes += [
        f"native: {rounds} idle window(s) of {window:g} s, {settle:g} s after registering,"
        f" same HOME shape as above; peak RSS (VmHWM)"
        f" {mib(median([w['native'].hwm_kb for w in windows]))}, threads"
        f" {windows[-1]['native'].threads}. Floor: the gtk row's minimal pystray icon.",
        f"native D-Bus messages over {watched:.0f} s: {len(messages)} ("
        + ", ".join(f"{member} {count}" for member, count in sorted(kinds.items()))
        + "); signals from the item, and the panel's calls and their replies.",
        "native start-up: spawn of the console script until the panel's watcher received"
        " RegisterStatusNotifierItem (the app has drawn its icon and exported the item and"
        " menu by then).",
    ]


def _wait_for(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.02)


def _name_owner(address: str, name: str) -> str:
    reply = subprocess.run(["dbus-send", "--bus=" + address, "--print-reply",
                            "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus",
                            "org.freedesktop.DBus.GetNameOwner", f"string:{name}"],
                           capture_output=True, text=True, timeout=10, check=True)
    return reply.stdout.split('"')[1]


def _messages_of(owner: str, profile: str) -> list[str]:
    """dbus-monitor --profile lines (type, time, serial, sender, destination, [path,
    interface,] member) sent by or to ``owner``; their member (replies: "reply")."""
    found = []
    for line in profile.splitlines():
        fields = line.split("\t")
        if len(fields) < 5 or fields[0] not in ("sig", "mc", "mr", "err"):
            continue
        if owner in (fields[3], fields[4]):
            found.append(fields[-1] if fields[0] in ("sig", "mc") else "reply")
    return found
