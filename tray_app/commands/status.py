"""``ecr-token-tray status``: a table (or JSON) of every ECR login and SSO session."""

from __future__ import annotations

import json
import sys

from tray_app import APP_NAME
from tray_app.commands import add_flags
from tray_app.errors import TrayAppError
from tray_app.model import RegistryStatus, Snapshot, SourceProblem, SsoStatus, State
from tray_app.settings import Paths, Settings
from tray_app.snapshot import has_kubeconfig, take_snapshot
from tray_app.summary import write_summary
from tray_app.timeutil import format_time_left, iso_utc

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (2 ms of `status`)
if TYPE_CHECKING:
    import argparse

EXIT_ATTENTION = 1  # --check: a watched login is expired or critical
EXIT_UNREADABLE = 2  # some source could not be read


FLAGS = {
    "--json": "print the JSON contract",
    "--check": "exit 1 when a login is expired or critical (an ecr-login registry: when the"
               " SSO session behind it is)",
    "--quiet": "print nothing; only refresh the shell prompt's summary (exit status as usual)",
    "--no-kubernetes": "skip the pull secrets of local Kubernetes clusters",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_flags(parser, FLAGS)


def run(args: argparse.Namespace) -> int:
    snapshot, settings_problem = load_snapshot(kubernetes=not args.no_kubernetes)
    if settings_problem:  # a broken config.toml is an unreadable source like any other
        config_file = str(Paths.from_env().config_file)
        snapshot = snapshot._replace(errors=(
            SourceProblem(config_file, settings_problem), *snapshot.errors))
    if not args.quiet:
        print(snapshot_json(snapshot) if args.json else render_table(snapshot))
        for problem in snapshot.errors:
            print(f"{APP_NAME}: {problem.message}", file=sys.stderr)
        for notice in snapshot.notices:  # a stopped cluster: said once, not an error
            print(f"{APP_NAME}: {notice.message}", file=sys.stderr)
    if snapshot.errors:
        return EXIT_UNREADABLE
    if args.check and needs_login(snapshot):
        return EXIT_ATTENTION
    return 0


def load_snapshot(kubernetes: bool = True, paths: Paths | None = None
                  ) -> tuple[Snapshot, str | None]:
    """Snapshot with the user's settings; a broken config file falls back to defaults.
    ``kubernetes``: also ask local clusters for their pull secrets (when a kubeconfig
    exists; without one this costs a stat)."""
    snapshot, _, problem = snapshot_with_settings(paths or Paths.from_env(), kubernetes)
    return snapshot, problem


def snapshot_with_settings(paths: Paths, kubernetes: bool = True
                           ) -> tuple[Snapshot, Settings, str | None]:
    """The snapshot, the settings it used, and what was wrong with the config file. Every
    snapshot also rewrites the shell prompt's summary file (a failed write is ignored:
    the prompt then marks its old summary stale)."""
    try:
        settings, problem = Settings.load(paths.config_file), None
    except TrayAppError as error:
        settings, problem = Settings(), str(error)
    clusters = None
    if kubernetes and settings.kubernetes and has_kubeconfig(paths, settings):
        from tray_app.sources.kubernetes import ClusterScan  # only with a kubeconfig

        clusters = ClusterScan()
    snapshot = take_snapshot(paths, settings, clusters=clusters)
    write_summary(paths, snapshot, settings)
    return snapshot, settings, problem


def needs_login(snapshot: Snapshot) -> bool:
    return any(r.state in (State.EXPIRED, State.CRITICAL) for r in snapshot.registries)


def snapshot_document(snapshot: Snapshot) -> dict:
    return {
        "generated_at": iso_utc(snapshot.generated_at),
        "registries": [_registry_document(r) for r in snapshot.registries],
        "sso_sessions": [_sso_document(s) for s in snapshot.sso_sessions],
        "errors": [{"source": e.source, "message": e.message} for e in snapshot.errors],
    }


def snapshot_json(snapshot: Snapshot) -> str:
    return json.dumps(snapshot_document(snapshot), indent=2)


def _registry_document(row: RegistryStatus) -> dict:
    ref = row.registry
    return {
        "host": ref.host,
        "account_id": ref.account_id,
        "region": ref.region,
        "partition": ref.partition,
        "public": ref.public,
        "fips": ref.fips,
        "source": row.source,
        "expires_at": iso_utc(row.expires_at),
        "seconds_left": row.seconds_left,
        "state": row.state.value,
        "detail": row.detail,
        "profile": row.profile,
        "credentials_expire_at": iso_utc(row.credentials_expire_at),
    } | _kubernetes_document(row) | _store_document(row)


def _store_document(row: RegistryStatus) -> dict:
    """Only rows whose credential store cannot hold their login carry this key."""
    problem = row.store_problem
    if problem is None:
        return {}
    return {"store_problem": {"kind": problem.kind, "store": problem.store,
                              "reason": problem.reason, "fix": problem.fix}}


def _kubernetes_document(row: RegistryStatus) -> dict:
    """Only rows of source ``kubernetes`` carry this key (the rest of the contract is as
    before)."""
    ref = row.kubernetes
    if ref is None:
        return {}
    return {"kubernetes": {"context": ref.context, "namespace": ref.namespace,
                           "secret": ref.secret}}


def _sso_document(session: SsoStatus) -> dict:
    return {
        "name": session.name,
        "start_url": session.start_url,
        "region": session.region,
        "expires_at": iso_utc(session.expires_at),
        "seconds_left": session.seconds_left,
        "state": session.state.value,
        "refreshable": session.refreshable,
        "profiles": list(session.profiles),
    }


def render_table(snapshot: Snapshot) -> str:
    lines = []
    logins = [r for r in snapshot.registries if r.kubernetes is None]
    secrets = [r for r in snapshot.registries if r.kubernetes is not None]
    if logins:
        lines += _table(
            ["REGISTRY", "SOURCE", "TIME LEFT", "STATE", "PROFILE"],
            [[r.registry.label, r.source, _time_left(r), r.state.value, r.profile or "-"]
             for r in logins],
            details=[_detail(r) for r in logins],
        )
    else:
        lines.append("No ECR logins found (Docker config, credential helpers, Podman).")
    if secrets or snapshot.notices:
        lines.append("")
    if secrets:
        lines += _table(
            ["KUBERNETES SECRET", "REGISTRY", "TIME LEFT", "STATE", "PROFILE"],
            [[r.kubernetes.label, r.registry.label, _time_left(r), r.state.value,
              r.profile or "-"] for r in secrets],
            details=[r.detail for r in secrets],
        )
    lines += [f"Kubernetes: {notice.message}" for notice in snapshot.notices]
    if snapshot.sso_sessions:
        lines.append("")
        lines += _table(
            ["SSO SESSION", "REGION", "TIME LEFT", "STATE", "SILENT REFRESH", "PROFILES"],
            [[s.name, s.region, _sso_time_left(s), s.state.value,
              "yes" if s.refreshable else "no", ", ".join(s.profiles) or "-"]
             for s in snapshot.sso_sessions],
        )
    return "\n".join(lines)


def _time_left(row: RegistryStatus) -> str:
    if row.managed and row.state != State.MANAGED:  # its SSO session is what runs out
        return f"{format_time_left(row.credentials_seconds_left)} (SSO)"
    text = format_time_left(row.seconds_left)
    return f"{text} (cached)" if row.state == State.MANAGED and row.seconds_left else text


def _detail(row: RegistryStatus) -> str:
    """Managed rows tell their SSO session's end; the generic "fetches a token" is noise.
    A store that cannot hold the login says so, with the fix, on a line of its own."""
    detail = "" if row.managed and row.credentials_from is None else row.detail
    problem = row.store_problem
    if problem is None:
        return detail
    store_line = f"{problem.reason}\n    fix: {problem.fix}"
    return f"{detail}\n    {store_line}" if detail else store_line


def _sso_time_left(session: SsoStatus) -> str:
    return "not signed in" if session.expires_at is None else format_time_left(session.seconds_left)


def _table(headers: list[str], rows: list[list[str]], details: list[str] | None = None
           ) -> list[str]:
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        padded = (cell.ljust(width) for cell, width in zip(cells, widths, strict=True))
        return "  ".join(padded).rstrip()

    out = [line(headers)]
    for index, row in enumerate(rows):
        out.append(line(row))
        if details and details[index]:
            out.append(f"    {details[index]}")
    return out
