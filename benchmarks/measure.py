"""Process accounting: what a child process cost, read from the kernel, not from inside it.

``run_measured`` reaps the child with ``os.wait4``, which hands back that one child's own
rusage (CPU seconds, peak RSS). ``ProcWatch`` reads ``/proc/<pid>`` of a long-running
process (the tray): CPU ticks, VmRSS/VmHWM and its children.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class ProcessUsage:
    wall_s: float  # spawn to reaped, measured by the parent
    cpu_s: float  # user + system, the child's own accounting
    max_rss_kb: int  # peak resident set size of the child
    returncode: int
    stdout: str
    stderr: str


GNU_TIME = shutil.which("time", path="/usr/bin:/bin")


def run_measured(argv: Sequence[str], env: Mapping[str, str], cwd: Path | None = None,
                 timeout: float = 60.0, stdin: str | None = None) -> ProcessUsage:
    """Run one child to completion and return its own resource accounting.

    Peak RSS comes from GNU time's ``%M`` when /usr/bin/time exists: Linux keeps the
    largest RSS a process ever had, including the pre-exec copy of the parent that
    forked it, so a child forked straight from this (larger) Python process would report
    at least this process's size. GNU time is a small C program, so what it reports is
    the child's own peak.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.TemporaryFile() as inp, tempfile.NamedTemporaryFile("r") as rss_file:
        if stdin is not None:
            inp.write(stdin.encode())
            inp.seek(0)
        if GNU_TIME:
            argv = [GNU_TIME, "-f", "%M", "-o", rss_file.name, *argv]
        start = time.perf_counter()
        proc = subprocess.Popen(list(argv), env=dict(env), cwd=cwd, stdin=inp,
                                stdout=out, stderr=err)
        killer = threading.Timer(timeout, _kill_quietly, args=(proc.pid,))
        killer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            killer.cancel()
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        out.seek(0)
        err.seek(0)
        max_rss = usage.ru_maxrss
        if GNU_TIME:
            lines = rss_file.read().split()
            max_rss = int(lines[-1]) if lines and lines[-1].isdigit() else max_rss
        return ProcessUsage(
            wall_s=wall, cpu_s=usage.ru_utime + usage.ru_stime, max_rss_kb=max_rss,
            returncode=proc.returncode, stdout=out.read().decode(errors="replace"),
            stderr=err.read().decode(errors="replace"))


def _kill_quietly(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, 9)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


# -- /proc readers for a long-running process ------------------------------------------

def proc_cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` itself (all its threads), from /proc/<pid>/stat."""
    fields = _stat_fields(pid)
    return (int(fields[13]) + int(fields[14])) / CLOCK_TICKS


def proc_children_cpu_seconds(pid: int) -> float:
    """cutime + cstime: CPU of children ``pid`` has already waited for."""
    fields = _stat_fields(pid)
    return (int(fields[15]) + int(fields[16])) / CLOCK_TICKS


def proc_threads(pid: int) -> int:
    return int(_stat_fields(pid)[19])


def _stat_fields(pid: int) -> list[str]:
    text = Path(f"/proc/{pid}/stat").read_text()
    # the command name is in parentheses and may hold spaces: split after the last ")"
    rest = text[text.rindex(")") + 2:].split()
    return ["pid", "comm", *rest]


def proc_memory_kb(pid: int) -> dict[str, int]:
    """VmRSS, VmHWM (peak RSS) and friends from /proc/<pid>/status, in kB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key.startswith("Vm") or key.startswith("Rss"):
            values[key] = int(rest.split()[0])
    return values


def child_pids(pid: int) -> set[int]:
    """Direct children of ``pid``, from every thread's /proc/<pid>/task/<tid>/children."""
    children: set[int] = set()
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except FileNotFoundError:
        return children
    for task in tasks:
        try:
            children.update(int(p) for p in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return children


class ChildWatch:
    """Samples a process's children on a background thread (every ``interval`` seconds).

    Sampling can miss a child that lives shorter than the interval, so the idle benchmark
    also compares cutime/cstime before and after: a reaped child leaves CPU time there.
    """

    def __init__(self, pid: int, interval: float = 0.02) -> None:
        self.pid = pid
        self.interval = interval
        self.seen: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> ChildWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.seen |= child_pids(self.pid)
