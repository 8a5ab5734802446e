"""Render results as a terminal table and as RESULTS.md."""

from __future__ import annotations

from collections.abc import Sequence

from benchmarks.common import BenchResult, Row

HEADERS = ["measurement", "value", "floor (same run)", "ratio", "target", "verdict"]


def _cells(row: Row) -> list[str]:
    return [row.measurement, row.value, row.floor, row.ratio, row.target, row.verdict]


def terminal_table(results: Sequence[BenchResult]) -> str:
    rows = [_cells(r) for result in results for r in result.rows]
    skipped = [f"{r.name}: skipped - {r.skipped}" for r in results if r.skipped]
    if not rows:
        return "\n".join(skipped or ["no measurements"])
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(HEADERS)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    out = [line(HEADERS), line(["-" * w for w in widths]), *(line(r) for r in rows)]
    return "\n".join(out + (["", *skipped] if skipped else []))


def markdown(results: Sequence[BenchResult], facts: dict[str, str], command: str) -> str:
    out = ["# Benchmark results", "",
           f"Written by `{command}`. Every figure is a median over several runs and sits next",
           "to its floor measured in the same run; ratios are value / floor.", "",
           "## Machine", ""]
    out += [f"- {key}: {value}" for key, value in facts.items()]
    out += ["", "## Figures", "", "| " + " | ".join(HEADERS) + " |",
            "|" + "---|" * len(HEADERS)]
    for result in results:
        for row in result.rows:
            out.append("| " + " | ".join(c.replace("|", "\\|") for c in _cells(row)) + " |")
    for result in results:
        out += ["", f"## {result.title}", ""]
        if result.skipped:
            out.append(f"Not measured: {result.skipped}")
        out += [f"- {note}" for note in result.notes]
        out += [f"- PROBLEM: {problem}" for problem in result.problems]
    return "\n".join(out) + "\n"
