"""What every benchmark shares: the run context, result rows, and the child environment."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # the benchmarks reuse tests/builders.py and stand-ins
    sys.path.insert(0, str(REPO_ROOT))


@dataclass(frozen=True)
class Context:
    quick: bool
    workdir: Path  # a temporary folder for this run (homes, logs, bytecode cache)
    python: str = sys.executable

    @property
    def pycache(self) -> Path:
        return self.workdir / "pycache"

    def child_env(self, base: dict[str, str]) -> dict[str, str]:
        """The environment children run with: bytecode cached, as after ``pip install``.

        Some shells (this CI's included) export PYTHONDONTWRITEBYTECODE=1; then every start
        recompiles tray_app from source, which a user's installed copy never does. A
        private PYTHONPYCACHEPREFIX keeps the cache out of the source tree.
        """
        env = dict(base)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(self.pycache)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
        return env


@dataclass(frozen=True)
class Row:
    measurement: str
    value: str
    floor: str = "-"
    ratio: str = "-"
    target: str = "-"
    met: bool | None = None  # None: no target for this row

    @property
    def verdict(self) -> str:
        return {True: "met", False: "MISSED", None: "-"}[self.met]


@dataclass
class BenchResult:
    name: str
    title: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: str | None = None  # why it could not run (a part is not built yet...)
    problems: list[str] = field(default_factory=list)  # assertion failures: the run fails

    def add(self, *args: object, **kwargs: object) -> None:
        self.rows.append(Row(*args, **kwargs))  # type: ignore[arg-type]


def ratio(value: float, floor: float) -> str:
    return f"{value / floor:.2f}x" if floor > 0 else "n/a"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def mib(kilobytes: float) -> str:
    return f"{kilobytes / 1024:.1f} MiB"
