"""Footprint and speed figures for ecr-token-tray, each next to its floor in the same run.

Run ``python -m benchmarks [--quick] [--only NAME]`` from the repository root; it prints a
table and writes ``benchmarks/RESULTS.md``. See the README's "Benchmarks" section.
"""
