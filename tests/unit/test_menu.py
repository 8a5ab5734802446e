"""The tray menu through pystray's `dummy` backend: read the rows, run their actions."""

from __future__ import annotations

import os
import shutil
import stat
from datetime import timedelta

import pytest

from tests.builders import DEV_REGISTRY, OPS_REGISTRY, SSO_DEV_CONFIG, docker_auth, host, in_
from tests.loop_support import FakeClock, RecordingNotifier
from tests.stand_ins.ecr_endpoint import unreachable_url
from tray_app.alertstate import load_tray_state
from tray_app.logs import log_file
from tray_app.settings import Paths
from tray_app.ui.actions import TrayActions
from tray_app.ui.loop import TrayLoop
from tray_app.ui.menu import AutostartView, menu_entries, to_pystray


def _import_dummy_pystray():
    """pystray picks its backend when first imported: dummy, without leaking the variable
    to other tests' subprocesses."""
    saved = os.environ.get("PYSTRAY_BACKEND")
    os.environ["PYSTRAY_BACKEND"] = "dummy"
    try:
        import pystray
    finally:
        if saved is None:
            del os.environ["PYSTRAY_BACKEND"]
        else:
            os.environ["PYSTRAY_BACKEND"] = saved
    return pystray


pystray = _import_dummy_pystray()
OK = host("444444444444", "eu-west-1")


class Tray:
    """The real loop and actions with a dummy pystray icon: what a user's clicks reach."""

    def __init__(self) -> None:
        from pystray import _base
        assert pystray.Icon is _base.Icon, "pystray was imported before with a real backend"
        self.pystray = pystray
        self.notifier = RecordingNotifier()
        self.clock = FakeClock(in_(0))
        self.loop = TrayLoop(Paths.from_env(), self.notifier, clock=self.clock)
        self.opened: list = []
        self.quit_called = False
        self.actions = TrayActions(self.loop, Paths.from_env(), on_quit=self._quit,
                                   opener=self.opened.append)
        self.loop.step()

    def _quit(self) -> None:
        self.quit_called = True

    def menu(self, autostart: AutostartView | None = None):
        entries = menu_entries(self.loop.view(), autostart or AutostartView())
        menu = to_pystray(entries, self.actions.dispatch)
        return menu, self.pystray.Icon("test", menu=menu)

    def texts(self, autostart: AutostartView | None = None) -> list[str]:
        menu, _ = self.menu(autostart)
        return [item.text for item in menu.items if item is not self.pystray.Menu.SEPARATOR]

    def item(self, text: str):
        menu, icon = self.menu()
        for item in menu.items:
            if item.text == text:
                return item, icon
        raise AssertionError(f"no menu row {text!r} in {[i.text for i in menu.items]}")

    def click(self, text: str) -> None:
        item, icon = self.item(text)
        assert item.enabled, f"{text!r} is disabled"
        item(icon)


@pytest.fixture
def logins(home):
    home.app_config("[renew]\nautomatic = false\n")
    home.docker_config({DEV_REGISTRY: {"auth": docker_auth(45.5)},
                        OPS_REGISTRY: {"auth": docker_auth(-125)},
                        OK: {"auth": docker_auth(540.5)}})
    home.podman_auth({DEV_REGISTRY: {"auth": docker_auth(300.5)}})
    home.aws_config(SSO_DEV_CONFIG)
    home.sso_token("corp", "https://corp.awsapps.com/start", in_(200.5), refresh=False)
    return home


def test_rows_show_each_registry_sso_session_and_the_commands(logins):
    texts = Tray().texts()
    helper = ["Never expires: use ecr-login"] if shutil.which("docker-credential-ecr-login") else []
    assert texts == [
        "222222222222 eu-central-1 - 45m left",
        "222222222222 eu-central-1 (podman) - 5h 00m left",
        "333333333333 us-west-2 - expired 2h ago",
        "444444444444 eu-west-1 - 9h 00m left",
        *helper,
        "SSO corp - 3h 20m left",
        "Refresh all expiring",
        "Renew automatically",
        "Start at login",
        "Open config file",
        "Open log",
        "Quit",
    ]


def test_sso_row_has_a_sign_in_action(logins):
    item, _ = Tray().item("SSO corp - 3h 20m left")
    sub = [i.text for i in item.submenu.items]
    assert sub[0] == "Sign in..." and "Profiles: dev" in sub


def test_checks_reflect_auto_renew_and_autostart(logins):
    tray = Tray()
    menu, _ = tray.menu(AutostartView(enabled=True))
    checks = {i.text: i.checked for i in menu.items if i.checked is not None}
    assert checks == {"Renew automatically": False, "Start at login": True}
    menu, _ = tray.menu(AutostartView(problem="cannot tell (OSError)"))
    row = next(i for i in menu.items if i.text.startswith("Start at login"))
    assert not row.enabled and "cannot tell (OSError)" in row.text


def test_toggling_auto_renew_is_persisted(logins):
    tray = Tray()
    tray.click("Renew automatically")
    assert tray.loop.auto_renew is True
    assert load_tray_state(Paths.from_env().state_dir).auto_renew is True
    item, _ = tray.item("Renew automatically")
    assert item.checked is True
    assert Tray().loop.auto_renew is True  # a restart keeps the choice


def test_open_config_creates_a_commented_file_then_opens_it(logins):
    config = Paths.from_env().config_file
    config.unlink()
    tray = Tray()
    tray.click("Open config file")
    assert tray.opened == [config]
    assert "[notifications]" in config.read_text()
    assert stat.S_IMODE(config.stat().st_mode) == 0o600


def test_open_log_and_quit(logins):
    tray = Tray()
    tray.click("Open log")
    assert tray.opened == [log_file(Paths.from_env().log_dir)]
    tray.click("Quit")
    assert tray.quit_called


def test_clicking_a_registry_row_refreshes_it_and_reports_the_reason_it_failed(logins,
                                                                                monkeypatch):
    # The real re-login engine runs on the worker thread; ECR's API is a closed local port.
    monkeypatch.setenv("AWS_ENDPOINT_URL_ECR", unreachable_url())
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEMENUTEST1")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "menuTestSecretKeyExample00000000000000000")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    tray = Tray()
    progress_seen = []
    tray.loop.on_view = lambda view: progress_seen.append(view.busy)
    tray.click("222222222222 eu-central-1 - 45m left")
    assert progress_seen[0] == "Refreshing 222222222222 eu-central-1..."
    tray.loop.join_worker(timeout=120)
    assert progress_seen[-1] is None  # the busy look ends when the worker is done
    titles = [title for title, _, _ in tray.notifier.sent]
    assert "ECR refresh failed" in titles
    body = tray.notifier.sent[titles.index("ECR refresh failed")][1]
    assert "222222222222 eu-central-1" in body and "dev" in body
    assert "menuTestSecretKeyExample" not in body


def test_progress_row_and_disabled_refresh_while_busy(logins):
    tray = Tray()
    import threading
    release = threading.Event()
    started = tray.loop._start("Refreshing 222222222222 eu-central-1...", release.wait, 30)
    try:
        assert started
        texts = tray.texts()
        assert texts[0] == "Refreshing 222222222222 eu-central-1..."
        assert not tray.item("222222222222 eu-central-1 - 45m left")[0].enabled
        assert not tray.loop.start_refresh(tray.loop.view().snapshot.registries[:1])
    finally:
        release.set()
        tray.loop.join_worker()
    assert tray.item("222222222222 eu-central-1 - 45m left")[0].enabled


def test_refresh_all_expiring_is_disabled_when_nothing_expires(home):
    home.app_config("[renew]\nautomatic = false\n")
    home.docker_config({OK: {"auth": docker_auth(540)}})
    tray = Tray()
    assert not tray.item("Refresh all expiring")[0].enabled
    tray.clock.advance(timedelta(hours=8, minutes=30).total_seconds())
    tray.loop.step()
    assert tray.item("Refresh all expiring")[0].enabled


def test_a_click_may_open_the_browser_sign_in_because_the_user_asked(home, fake_aws, sso_service,
                                                                     monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_ECR", unreachable_url())
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    home.app_config("[renew]\nautomatic = false\n")
    home.aws_config(SSO_DEV_CONFIG)
    home.sso_token("corp", "https://corp.awsapps.com/start", in_(-30), refresh=False)
    home.docker_config({DEV_REGISTRY: {"auth": docker_auth(40.5)}})
    tray = Tray()
    tray.click("222222222222 eu-central-1 - 40m left")
    tray.loop.join_worker(timeout=120)
    assert len(fake_aws.sso_logins) == 1  # `aws sso login` ran: the click asked for it
    assert "corp" in " ".join(fake_aws.sso_logins[0]) or "dev" in " ".join(
        fake_aws.sso_logins[0])
    titles = [title for title, _, _ in tray.notifier.sent]
    assert titles == ["2 ECR logins need renewing",  # the start-up alert
                      "ECR refresh failed"]  # signed in; then ECR's API was unreachable
    assert "aoaAAAAAGsso-access-token-secret" not in "".join(tray.notifier.texts)


# -- "Never expires: use ecr-login" / "Back to docker login" (credhelper) ----------------------
def submenu_texts(tray: Tray, text: str) -> list[str]:
    item, _ = tray.item(text)
    return [i.text for i in item.submenu.items]


def click_in_submenu(tray: Tray, text: str, row: str) -> None:
    item, icon = tray.item(text)
    (entry,) = [i for i in item.submenu.items if i.text == row]
    assert entry.enabled
    entry(icon)


def test_ecr_login_is_offered_only_when_the_helper_is_installed(logins, monkeypatch, tmp_path):
    if shutil.which("docker-credential-ecr-login") is None:
        pytest.skip("needs docker-credential-ecr-login")
    # Docker logins only (not Podman's), each registry once
    assert submenu_texts(Tray(), "Never expires: use ecr-login") == [
        "222222222222 eu-central-1", "333333333333 us-west-2", "444444444444 eu-west-1"]
    monkeypatch.setenv("PATH", str(tmp_path))  # no helper on PATH
    texts = Tray().texts()
    assert "Never expires: use ecr-login" not in texts and "Back to docker login" not in texts


def test_a_managed_row_offers_back_to_docker_login(home):
    home.docker_config({OK: {}}, credHelpers={OK: "ecr-login"})
    tray = Tray()
    assert "444444444444 eu-west-1 (ecr-login) - renews itself" in tray.texts()
    assert submenu_texts(tray, "Back to docker login") == ["444444444444 eu-west-1"]


def test_handing_a_registry_over_and_back_from_the_menu(logins, monkeypatch):
    """The real actions: credhelper enable (with the real helper's check, which cannot
    reach AWS here), then disable and the re-login engine (ECR's API a closed port)."""
    if shutil.which("docker-credential-ecr-login") is None:
        pytest.skip("needs docker-credential-ecr-login")
    closed = unreachable_url()
    monkeypatch.setenv("HTTPS_PROXY", closed)  # the helper's AWS calls fail fast, offline
    monkeypatch.setenv("AWS_ENDPOINT_URL_ECR", closed)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEMENUTEST1")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "menuTestSecretKeyExample00000000000000000")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    import json

    from tray_app.credhelper import Target
    from tray_app.hosts import parse_registry
    from tray_app.service.handover import hand_over

    config = Paths.from_env().docker_config
    before = config.read_bytes()
    tray = Tray()
    click_in_submenu(tray, "Never expires: use ecr-login", "444444444444 eu-west-1")
    tray.loop.join_worker(timeout=120)
    assert config.read_bytes() == before  # the helper got no token: nothing changed
    title, body, _ = tray.notifier.sent[-1]
    assert title == "444444444444 eu-west-1: nothing changed"
    assert f"{OK}: not handed over to ecr-login, nothing changed" in body
    assert "got no token" in body
    # handed over without the check (`credhelper enable --no-verify`), then back
    hand_over(config, [Target(parse_registry(OK), None)], verify=False)
    assert json.loads(config.read_text())["credHelpers"] == {OK: "ecr-login"}
    tray.loop.nudge()
    tray.loop.step()
    assert "444444444444 eu-west-1 (ecr-login) - renews itself" in tray.texts()

    click_in_submenu(tray, "Back to docker login", "444444444444 eu-west-1")
    tray.loop.join_worker(timeout=120)
    # no AWS here, so no login with Docker: the registry stays on ecr-login, as before
    assert json.loads(config.read_text())["credHelpers"] == {OK: "ecr-login"}
    (failed, kept) = tray.notifier.sent[-2:]
    assert failed[0] == "ECR refresh failed" and "444444444444 eu-west-1" in failed[1]
    assert kept[0] == "444444444444 eu-west-1: still on ecr-login"
    assert f"{OK}: stays on ecr-login - its login with Docker did not work" in kept[1]
    assert all("menuTestSecretKeyExample" not in body for _, body, _ in tray.notifier.sent)
