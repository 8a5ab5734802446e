"""How a snapshot reads as text: the `status` table and the JSON contract.

Every front end that prints a snapshot or a table (`status`, `watch`, `credhelper status`)
renders it here; commands never import each other for it.
"""

from __future__ import annotations

import json

from tray_app.model import RegistryStatus, Snapshot, SsoStatus, State
from tray_app.timeutil import format_time_left, iso_utc


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
        lines += table(
            ["REGISTRY", "SOURCE", "TIME LEFT", "STATE", "PROFILE"],
            [[r.registry.label, r.source, _time_left(r), r.state.value, r.profile or "-"]
             for r in logins],
            details=[_detail(r) for r in logins],
        )
    else:
        lines.append("No ECR logins found (Docker config, credential helpers, Podman, Helm).")
    if secrets or snapshot.notices:
        lines.append("")
    if secrets:
        lines += table(
            ["KUBERNETES SECRET", "REGISTRY", "TIME LEFT", "STATE", "PROFILE"],
            [[r.kubernetes.label, r.registry.label, _time_left(r), r.state.value,
              r.profile or "-"] for r in secrets],
            details=[r.detail for r in secrets],
        )
    lines += [f"Kubernetes: {notice.message}" for notice in snapshot.notices]
    if snapshot.sso_sessions:
        lines.append("")
        lines += table(
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


def table(headers: list[str], rows: list[list[str]], details: list[str] | None = None
          ) -> list[str]:
    """Aligned columns, one line per row; a row's non-empty detail indented under it."""
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
