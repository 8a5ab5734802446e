"""``ecr-token-tray status``: a table (or JSON) of every ECR login and SSO session."""

from __future__ import annotations

import sys

from tray_app import APP_NAME
from tray_app.commands import add_flags
from tray_app.model import SourceProblem
from tray_app.render import render_table, snapshot_json
from tray_app.settings import Paths

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (2 ms of `status`)
if TYPE_CHECKING:
    import argparse

EXIT_ATTENTION = 1  # --check: a watched login needs attention (expired or critical)
EXIT_UNREADABLE = 2  # some source could not be read


FLAGS = {
    "--json": "print the JSON contract",
    "--check": "exit 1 when a login is expired or critical (an ecr-login registry: when the"
               " SSO session behind it is)",
    "--quiet": "print nothing; only refresh the shell prompt's summary (exit status as usual)",
    "--no-kubernetes": "skip the pull secrets of local Kubernetes clusters (the prompt's"
                       " summary counts them, so it is then left as it was)",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_flags(parser, FLAGS)


def run(args: argparse.Namespace) -> int:
    from tray_app.service.snapshots import take

    paths = Paths.from_env()
    taken = take(paths, kubernetes=not args.no_kubernetes)
    snapshot = taken.snapshot
    if taken.settings_problem:  # a broken config.toml is an unreadable source like any other
        snapshot = snapshot._replace(errors=(
            SourceProblem(str(paths.config_file), taken.settings_problem), *snapshot.errors))
    if not args.quiet:
        print(snapshot_json(snapshot) if args.json else render_table(snapshot))
        for problem in snapshot.errors:
            print(f"{APP_NAME}: {problem.message}", file=sys.stderr)
        for notice in snapshot.notices:  # a stopped cluster: said once, not an error
            print(f"{APP_NAME}: {notice.message}", file=sys.stderr)
    if snapshot.errors:
        return EXIT_UNREADABLE
    if args.check and any(r.state.needs_attention for r in snapshot.registries):
        return EXIT_ATTENTION
    return 0
