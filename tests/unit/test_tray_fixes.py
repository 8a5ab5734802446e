"""What the tries on real desktops found (issue 10): a profile without credentials is not
renewed automatically, a renewal failure is told once across restarts, and "Open log" with
no app to open it says where the file is. The real loop, engine and files; ECR's API is a
closed local port where a renewal must fail."""

from __future__ import annotations

from tests.builders import DEV_REGISTRY, docker_auth, in_
from tests.desktop import wait_until
from tests.loop_support import FakeClock, RecordingNotifier
from tests.stand_ins.ecr_endpoint import unreachable_url
from tray_app.alertstate import load_tray_state
from tray_app.logs import log_file
from tray_app.settings import Paths
from tray_app.ui.actions import TrayActions
from tray_app.ui.loop import TrayLoop


def _no_credentials_anywhere(monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                 "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                 "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def test_a_profile_without_credentials_is_not_renewed_and_its_alert_says_what_to_run(
        home, monkeypatch):
    _no_credentials_anywhere(monkeypatch)
    monkeypatch.setenv("AWS_ENDPOINT_URL_ECR", unreachable_url())
    home.docker_config({DEV_REGISTRY: {"auth": docker_auth(40.5)}})
    notifier = RecordingNotifier()
    loop = TrayLoop(Paths.from_env(), notifier, clock=FakeClock(in_(0)))
    loop.step()
    assert loop.busy is None  # no automatic renewal that could only fail
    (title, body, _), = notifier.sent
    assert title == "ECR login 222222222222 eu-central-1 ends in 40 min"
    assert body.splitlines()[0] == (
        "To renew: no AWS credentials for profile default: run `aws configure sso --profile"
        " default` (or `aws configure --profile default` for access keys)")
    assert notifier.extras[0]["button"] is None  # a click could not renew it either

    # once the profile has keys, the next tick renews it automatically
    credentials = home.root / ".aws" / "credentials"
    credentials.parent.mkdir(parents=True, exist_ok=True)
    credentials.write_text("[default]\naws_access_key_id = AKIAEXAMPLEFIXTEST01\n"
                           "aws_secret_access_key = fixTestSecretKeyExample000000000000000000\n")
    loop.nudge()
    loop.step()
    assert loop.busy is not None
    loop.join_worker(timeout=120)


def test_an_automatic_renewal_failure_is_told_once_across_restarts(home, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_ECR", unreachable_url())
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEFIXTEST02")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "fixTestSecretKeyExample000000000000000001")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    home.docker_config({DEV_REGISTRY: {"auth": docker_auth(40.5)}})

    def run_a_tray(minutes_later: float) -> RecordingNotifier:
        notifier = RecordingNotifier()
        loop = TrayLoop(Paths.from_env(), notifier, clock=FakeClock(in_(minutes_later)))
        loop.step()
        assert loop.busy is not None  # each start tries the silent renewal once
        loop.join_worker(timeout=120)
        loop.step()
        return notifier

    first = run_a_tray(0)
    assert first.sent[0][0] == "ECR refresh failed"
    button = first.extras[0]["button"]
    assert (button.key, button.label) == ("login", "Log in again")
    assert button.action == ("refresh", DEV_REGISTRY, "docker-config")
    assert any(key.startswith(f"renew-failed|{DEV_REGISTRY}|docker-config|")
               for key in load_tray_state(Paths.from_env().state_dir).sent_alerts)

    again = run_a_tray(1)  # the tray restarts: same login, same cause, same expiry
    assert again.sent == []


def test_open_log_without_an_app_to_open_it_says_where_the_file_is(home, monkeypatch):
    empty = home.root / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # no xdg-open: a bare window manager
    home.app_config("[renew]\nautomatic = false\n")
    notifier = RecordingNotifier()
    paths = Paths.from_env()
    loop = TrayLoop(paths, notifier, clock=FakeClock(in_(0)))
    actions = TrayActions(loop, paths, on_quit=lambda: None)
    actions.dispatch(("open-log",))
    wait_until(lambda: notifier.sent, 30, "the notification naming the log file")
    title, body, urgent = notifier.sent[0]
    assert title == "Cannot open ecr-token-tray.log" and not urgent
    assert body.splitlines()[0] == f"Open it yourself: {log_file(paths.log_dir)}"
    assert "xdg-open" in body


def test_any_credential_source_a_profile_names_counts(home, monkeypatch):
    from tray_app.renew.credentials import credentials_problem

    _no_credentials_anywhere(monkeypatch)
    assert credentials_problem("dev").startswith("no AWS credentials for profile dev: run")
    for setting in ("role_arn = arn:aws:iam::222222222222:role/x\nsource_profile = base",
                    "credential_process = /usr/local/bin/get-creds",
                    "sso_session = corp", "credential_source = Environment"):
        home.aws_config(f"[profile dev]\nregion = eu-central-1\n{setting}\n")
        assert credentials_problem("dev") is None, setting
    home.aws_config("[profile dev]\nregion = eu-central-1\n")
    assert credentials_problem("dev") is not None
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:9/creds")
    assert credentials_problem("dev") is None  # the environment may serve any profile
