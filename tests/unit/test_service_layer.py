"""The application layer (tray_app/service): one place for each side effect (issue 18)."""

from __future__ import annotations

import os

import pytest

from tests.builders import docker_auth, host
from tray_app.model import State
from tray_app.service.login_files import login_files
from tray_app.service.snapshots import take
from tray_app.settings import Paths
from tray_app.summary import SUMMARY_FILE, parse_summary
from tray_app.ui.loop import LoopView, fingerprint

WARNING = host("222222222222")  # 44 minutes left
CRITICAL = host("333333333333", "us-west-2")  # 9 minutes
EXPIRED = host("444444444444")  # 5 minutes ago
FINE = host("555555555555")  # 5 hours


def summary_of(home):
    return parse_summary((home.state_dir / SUMMARY_FILE).read_text())


# -- defect 10: "attention" means expired or critical, everywhere -----------------------------
def test_attention_is_expired_or_critical_and_nothing_else():
    assert {s for s in State if s.needs_attention} == {State.EXPIRED, State.CRITICAL}
    assert {s for s in State if s.due_for_renewal} == {State.EXPIRED, State.CRITICAL,
                                                       State.WARNING}


def test_a_warning_alone_is_not_attention_for_the_summary_check_or_native_tray(home):
    pytest.importorskip("dbus_fast")
    from tray_app.ui.freedesktop.app import status_of

    home.docker_config({WARNING: {"auth": docker_auth(44)}, FINE: {"auth": docker_auth(300)}})
    assert home.run_cli("status", "--check").returncode == 0
    assert summary_of(home).attention == 0
    taken = take(Paths.from_env())
    assert status_of(LoopView(taken.snapshot, None, True, None)) == "Active"


def test_expired_and_critical_count_the_same_in_the_summary_check_and_native_tray(home):
    pytest.importorskip("dbus_fast")
    from tray_app.ui.freedesktop.app import status_of

    home.docker_config({WARNING: {"auth": docker_auth(44)}, CRITICAL: {"auth": docker_auth(9)},
                        EXPIRED: {"auth": docker_auth(-5)}, FINE: {"auth": docker_auth(300)}})
    assert home.run_cli("status", "--check").returncode == 1
    taken = take(Paths.from_env())
    attention = [r for r in taken.snapshot.registries if r.state.needs_attention]
    assert {r.host for r in attention} == {CRITICAL, EXPIRED}
    assert summary_of(home).attention == len(attention) == 2
    assert status_of(LoopView(taken.snapshot, None, True, None)) == "NeedsAttention"


# -- one list of login files ----------------------------------------------------------------
def test_every_login_file_is_seen_by_change_detection_staleness_and_the_snippets(home,
                                                                                monkeypatch):
    from tray_app.commands.prompt import init_code
    from tray_app.summary import newer_than

    kubeconfig = home.root / ".kube" / "config"
    home.env["KUBECONFIG"] = str(kubeconfig)
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    paths = Paths.from_env()
    files = login_files(paths)
    assert kubeconfig in files and paths.sso_cache_dir in files  # the two lists had drifted
    snippet = init_code("bash", paths)
    for path in files:
        assert str(path) in snippet
    old = 1_000_000_000
    for path in files:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path == paths.sso_cache_dir:
            path.mkdir(exist_ok=True)
        else:
            path.write_text("{}")
        os.utime(path, (old, old))
    for path in files:
        before = fingerprint(paths)
        assert not newer_than(files, old + 10)
        os.utime(path, (old + 100, old + 100))
        assert fingerprint(paths) != before, f"the tray misses a change of {path}"
        assert newer_than(files, old + 10), f"the prompt misses a change of {path}"
        os.utime(path, (old, old))


def test_the_tray_sees_a_token_rewritten_in_the_sso_cache(home):
    cache = home.sso_cache_dir
    cache.mkdir(parents=True)
    token = cache / "abc.json"
    token.write_text("{}")
    before = fingerprint(Paths.from_env())
    token.write_text('{"accessToken": "x"}')
    assert fingerprint(Paths.from_env()) != before


# -- the scope of a snapshot ----------------------------------------------------------------
def test_without_a_kubeconfig_a_no_kubernetes_snapshot_is_complete(home):
    home.docker_config({CRITICAL: {"auth": docker_auth(9)}})
    taken = take(Paths.from_env(), kubernetes=False)
    assert taken.complete
    assert summary_of(home).attention == 1


def test_a_broken_config_file_is_one_line_and_defaults_are_used(home):
    home.app_config("[thresholds\n")
    home.docker_config({WARNING: {"auth": docker_auth(44)}})
    taken = take(Paths.from_env())
    assert taken.settings_problem and "config.toml" in taken.settings_problem
    assert taken.settings.warning_minutes == 60
    (row,) = taken.snapshot.registries
    assert row.state is State.WARNING
