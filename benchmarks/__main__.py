"""``python -m benchmarks [--quick] [--only NAME] [--output PATH]``."""

from __future__ import annotations

import argparse
import importlib
import shutil
import sys
import tempfile
from pathlib import Path

from benchmarks.common import BenchResult, Context
from benchmarks.machine import machine_facts
from benchmarks.report import markdown, terminal_table

BENCHMARKS = ["status", "tray", "refresh", "detection", "bundle", "kubernetes"]
DEFAULT_OUTPUT = Path(__file__).resolve().parent / "RESULTS.md"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true",
                        help="few iterations, small counts, short idle window (CI smoke)")
    parser.add_argument("--only", action="append", choices=BENCHMARKS, metavar="NAME",
                        help=f"run only this one (repeatable): {', '.join(BENCHMARKS)}")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT,
                        help="where to write the markdown (default: benchmarks/RESULTS.md)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    return parser.parse_args(argv)


def run_one(name: str, ctx: Context) -> BenchResult:
    module = importlib.import_module(f"benchmarks.bench_{name}")
    print(f"[benchmarks] running {name} ...", file=sys.stderr, flush=True)
    try:
        return module.run(ctx)
    except Exception as error:  # one broken benchmark must not hide the others' figures
        result = BenchResult(name, module.TITLE)
        result.problems.append(f"crashed: {type(error).__name__}: {error}")
        import traceback
        traceback.print_exc()
        return result


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    names = args.only or BENCHMARKS
    workdir = Path(tempfile.mkdtemp(prefix="ecr-token-tray-bench-"))
    ctx = Context(quick=args.quick, workdir=workdir)
    try:
        results = [run_one(name, ctx) for name in names]
    finally:
        if args.keep:
            print(f"[benchmarks] kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    command = "python -m benchmarks" + (" --quick" if args.quick else "") + "".join(
        f" --only {n}" for n in args.only or [])
    print(terminal_table(results))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(markdown(results, machine_facts(), command))
    print(f"\nwritten: {args.output}")
    problems = [f"{r.name}: {p}" for r in results for p in r.problems]
    for problem in problems:
        print(f"PROBLEM {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
