"""What the tray/watch loop remembers across restarts: alerts sent, the auto-renew switch.

``<state dir>/tray.json`` (atomic, 0600)::

    {"version": 1, "auto_renew": true, "sent_alerts": ["login|host|source|expiry|15", ...]}

``auto_renew`` is absent until the user flips "Renew automatically"; then it overrides
``renew.automatic`` from config.toml. A damaged file is logged and replaced, never fatal:
the worst case is one repeated notification.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from tray_app.alerts import forget_old
from tray_app.errors import SourceError
from tray_app.fileio import read_json_file, write_json_atomic

TRAY_STATE_FILE = "tray.json"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrayState:
    sent_alerts: frozenset[str] = frozenset()
    auto_renew: bool | None = None  # None: follow config.toml
    problem: str | None = field(default=None, compare=False)

    def with_sent(self, keys: frozenset[str] | set[str], now: datetime) -> TrayState:
        return replace(self, sent_alerts=frozenset(forget_old(self.sent_alerts | keys, now)))


def tray_state_path(state_dir: Path) -> Path:
    return state_dir / TRAY_STATE_FILE


def load_tray_state(state_dir: Path) -> TrayState:
    path = tray_state_path(state_dir)
    try:
        document = read_json_file(path)
    except SourceError as error:
        log.warning("%s; starting with an empty alert record", error)
        return TrayState(problem=str(error))
    if document is None:
        return TrayState()
    if not isinstance(document, dict):
        log.warning("%s: not a JSON object; starting with an empty alert record", path)
        return TrayState(problem=f"{path}: not a JSON object")
    sent = document.get("sent_alerts", [])
    auto = document.get("auto_renew")
    return TrayState(
        sent_alerts=frozenset(k for k in sent if isinstance(k, str))
        if isinstance(sent, list) else frozenset(),
        auto_renew=auto if isinstance(auto, bool) else None,
    )


def save_tray_state(state_dir: Path, state: TrayState) -> None:
    document: dict[str, object] = {"version": 1, "sent_alerts": sorted(state.sent_alerts)}
    if state.auto_renew is not None:
        document["auto_renew"] = state.auto_renew
    write_json_atomic(tray_state_path(state_dir), document)
