"""Figures the test suite measures and prints at the end of the run.

``record("bad inputs tried", 45)`` sets a figure; ``add("bad inputs passed")`` counts one
more. The ``pytest_terminal_summary`` hook in tests/conftest.py prints them all on one line:
``figures: bad inputs tried 45, bad inputs passed 45; ...``.
"""

from __future__ import annotations

_figures: dict[str, object] = {}


def record(name: str, value: object) -> None:
    """Store (or replace) one figure."""
    _figures[name] = value


def add(name: str, amount: int = 1) -> None:
    """Count: increase a numeric figure, starting from 0."""
    current = _figures.get(name, 0)
    _figures[name] = (current if isinstance(current, int) else 0) + amount


def all_figures() -> dict[str, object]:
    return dict(_figures)


def summary_line() -> str | None:
    if not _figures:
        return None
    return "figures: " + "; ".join(f"{name} {value}" for name, value in _figures.items())
