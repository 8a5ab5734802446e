"""Helm's logins in the tray's menu rows and tooltip say they are Helm's (its own token,
ending apart from Docker's for the same registry), read from a real Helm registry config in
a temp HOME. The alert and a click: tests/integration/test_helm.py."""

from __future__ import annotations

from tests.builders import DEV_REGISTRY, in_
from tests.unit.test_alerts import auth_expiring_at
from tray_app.settings import Paths, Settings
from tray_app.snapshot import take_snapshot
from tray_app.ui.icon import tooltip_lines
from tray_app.ui.menu import registry_text


def helm_ends_before_docker(home):
    expiry = in_(120)
    home.docker_config({DEV_REGISTRY: auth_expiring_at(in_(600))})
    home.helm_config({DEV_REGISTRY: auth_expiring_at(expiry)})
    return expiry


def test_menu_row_and_tooltip_say_which_login_is_helms(home):
    helm_ends_before_docker(home)
    snapshot = take_snapshot(Paths.from_env(), Settings())
    texts = sorted(registry_text(row) for row in snapshot.registries)
    assert texts[0].startswith("222222222222 eu-central-1 (helm) - ")
    assert not texts[1].startswith("222222222222 eu-central-1 (")  # Docker's: no suffix
    lines = tooltip_lines(snapshot)
    assert lines[0].startswith("222222222222 eu-central-1 (Helm): 1h")  # ends first
    assert lines[1].startswith("222222222222 eu-central-1: ")
