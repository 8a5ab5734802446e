"""Helm's registry config: its logins as `helm` rows next to Docker's, in the tray, the
automatic public.ecr.aws logout and `doctor` (where the file is: test_helm_paths.py)."""

from __future__ import annotations

import pytest

from tests.builders import docker_auth, host
from tray_app.service.login_files import login_files
from tray_app.settings import Paths, Settings
from tray_app.snapshot import take_snapshot

DEV = host("222222222222", "eu-central-1")


def test_paths_from_the_environment_point_at_helms_file(home):
    paths = Paths.from_env()
    assert paths.helm_registry_config == home.helm_config_path
    assert paths.helm_registry_config in login_files(paths)  # a change there is noticed


def test_helm_logins_are_rows_next_to_dockers(home):
    home.docker_config({DEV: {"auth": docker_auth(300)}})
    home.helm_config({DEV: {"auth": docker_auth(15)}, "public.ecr.aws": {"auth": docker_auth(-5)},
                      "ghcr.io": {"auth": "dXNlcjpwYXNz"}})
    snapshot = take_snapshot(Paths.from_env(), Settings())
    rows = {(r.host, r.source): r for r in snapshot.registries}
    assert set(rows) == {(DEV, "docker-config"), (DEV, "helm"), ("public.ecr.aws", "helm")}
    assert rows[(DEV, "helm")].state.value == "critical"
    assert rows[(DEV, "docker-config")].state.value == "ok"
    assert "anonymous pulls work" in rows[("public.ecr.aws", "helm")].detail
    assert snapshot.errors == ()


def test_a_helm_file_with_a_missing_creds_store_says_so_in_its_row(home):
    """As for Docker: with a credsStore the file's own `auth` values are leftovers; the
    store that cannot be asked is named, in the row and as a problem."""
    home.helm_config({DEV: {"auth": docker_auth(300)}}, credsStore="gone")
    snapshot = take_snapshot(Paths.from_env(), Settings())
    (row,) = [r for r in snapshot.registries if r.source == "helm"]
    assert row.expires_at is None and "docker-credential-gone" in row.detail
    (problem,) = snapshot.errors
    assert "docker-credential-gone" in problem.message


def test_no_helm_file_costs_no_import(home):
    import subprocess
    import sys

    home.docker_config({DEV: {"auth": docker_auth(300)}})
    probe = ("import sys; from tray_app.settings import Paths, Settings;"
             " from tray_app.snapshot import take_snapshot;"
             " take_snapshot(Paths.from_env(), Settings());"
             " print('tray_app.sources.helm' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", probe], env=home.full_env(),
                            capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "False"


# -- public.ecr.aws in Helm's file: the tray's logout row and the automatic logout -----------
PUBLIC = "public.ecr.aws"


@pytest.fixture
def stale_public_in_helm(home):
    home.docker_config({DEV: {"auth": docker_auth(300)}})
    home.helm_config({PUBLIC: {"auth": docker_auth(-90)}, "ghcr.io": {"auth": "dTpw"}},
                     extra={"kept": [1, None]})
    home.helm_config_path.chmod(0o640)
    return home


def test_the_tray_logs_out_of_a_stale_public_login_in_helms_file(stale_public_in_helm):
    """The real loop, menu model, TrayActions and ActionRunner (tests/unit/test_menu.py's
    way): the row under Helm's public.ecr.aws login logs out of Helm's file only."""
    import json
    import stat

    from tests.loop_support import ClickedTray

    home = stale_public_in_helm
    home.app_config("[renew]\nautomatic = false\n")
    docker_before = home.docker_config_path.read_bytes()
    tray = ClickedTray()
    entries = tray.entries()
    texts = [e.text for e in entries]
    (row,) = [i for i, text in enumerate(texts) if text.startswith(f"{PUBLIC} (helm) - expired")]
    assert entries[row + 1].text == "    Log out: anonymous pulls work"
    assert entries[row + 1].action == ("logout-public", PUBLIC, "helm")

    tray.click(entries[row + 1].action)
    tray.stop()

    document = json.loads(home.helm_config_path.read_text())
    assert document == {"auths": {"ghcr.io": {"auth": "dTpw"}}, "extra": {"kept": [1, None]}}
    assert stat.S_IMODE(home.helm_config_path.stat().st_mode) == 0o640
    assert home.docker_config_path.read_bytes() == docker_before
    assert tray.notifier.sent[-1][0] == "Logged out of public.ecr.aws"


def test_auto_logout_takes_a_stale_public_login_out_of_helms_file(stale_public_in_helm):
    import json

    from tests.builders import in_
    from tests.loop_support import FakeClock, RecordingNotifier, run_three_minutes
    from tray_app.ui.loop import TrayLoop

    home = stale_public_in_helm
    home.app_config("[renew]\nautomatic = false\n\n[public_ecr]\nauto_logout = true\n")
    notifier = RecordingNotifier()
    clock = FakeClock(in_(0))
    loop = TrayLoop(Paths.from_env(), notifier, clock=clock)
    run_three_minutes(loop, clock)

    assert set(json.loads(home.helm_config_path.read_text())["auths"]) == {"ghcr.io"}
    titles = [title for title, _, _ in notifier.sent]
    assert titles.count("Logged out of public.ecr.aws by itself") == 1


def test_a_host_helm_hands_to_ecr_login_is_a_managed_row(home):
    from tests.builders import in_

    other = host("333333333333", "us-west-2")
    home.docker_config({}, credHelpers={other: "ecr-login"})
    home.helm_config({}, credHelpers={DEV: "ecr-login", other: "ecr-login"})
    home.ecr_login_cache({DEV: in_(300)})
    rows = take_snapshot(Paths.from_env(), Settings()).registries
    assert sorted((r.host, r.source, r.state.value) for r in rows) == [
        (DEV, "ecr-login", "managed"), (other, "ecr-login", "managed")]  # one each
    (dev,) = [r for r in rows if r.host == DEV]
    assert dev.expiry_from == "ecr-login-cache"


def test_doctor_checks_helms_file(home, monkeypatch, tmp_path):
    from tray_app.commands import doctor

    (missing,) = doctor.check_helm_config(home.helm_config_path)
    assert missing.level == "pass" and "does not exist" in missing.detail
    monkeypatch.setenv("PATH", str(tmp_path))  # no helper on PATH
    path = home.helm_config({DEV: {"auth": docker_auth(60)}}, credHelpers={"quay.io": "pass"})
    path.chmod(0o644)
    mode, helper = doctor.check_helm_config(path)
    assert (mode.level, mode.name, mode.fix) == ("warn", "helm config", f"chmod 600 {path}")
    assert helper.level == "fail" and "helm cannot read or store" in helper.detail
    assert "docker-credential-pass for quay.io" in helper.detail
    path.write_text('{"auths": [1]}')
    (broken,) = doctor.check_helm_config(path)
    assert broken.level == "fail" and str(path) in broken.detail
    assert "`auths` is an array" in broken.detail and broken.fix
