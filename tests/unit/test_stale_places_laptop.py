"""Issue 19's laptop, as one user has it: an expired public.ecr.aws login (Podman's file), a
Helm login that ends in 15 minutes, and Docker's `credsStore: desktop` with no Docker Desktop.
`status` names all three with their fix, and the tray's menu has each fix one click away; the
click on the public login's row logs out of Podman's file only."""

from __future__ import annotations

import json

import pytest

from tests.builders import docker_auth, host
from tests.loop_support import ClickedTray
from tray_app.ui.menu import LOGOUT_PUBLIC_TEXT, PLAIN_FILE_FIX

DOCKER_HOST = host("222222222222", "eu-central-1")
HELM_HOST = host("333333333333", "us-west-2")
PUBLIC = "public.ecr.aws"


@pytest.fixture
def laptop(home):
    home.app_config("[renew]\nautomatic = false\n")
    home.docker_config({DOCKER_HOST: {}}, credsStore="desktop")  # what Docker Desktop left
    home.podman_auth({PUBLIC: {"auth": docker_auth(-90)}, "quay.io": {"auth": "dTpw"}})
    home.helm_config({HELM_HOST: {"auth": docker_auth(15)}})
    return home


def test_status_names_all_three_with_their_fix(laptop):
    rows = {(row["host"], row["source"]): row
            for row in laptop.status_json()["registries"]}
    public = rows[(PUBLIC, "podman")]
    assert public["state"] == "expired"
    assert "anonymous pulls work: `ecr-token-tray logout public.ecr.aws`" in public["detail"]
    assert rows[(HELM_HOST, "helm")]["state"] == "critical"
    (docker_row,) = [row for (registry, _), row in rows.items() if registry == DOCKER_HOST]
    assert docker_row["store_problem"]["kind"] == "helper-missing"
    assert f"credhelper enable {DOCKER_HOST}" in docker_row["store_problem"]["fix"]

    text = laptop.run_cli("status").stdout
    assert "which is not on PATH (it comes with Docker Desktop)" in text
    assert "anonymous pulls work" in text


def test_the_tray_has_each_fix_one_click_away(laptop):
    podman_others = json.loads(laptop.podman_auth_path.read_text())["auths"]["quay.io"]
    tray = ClickedTray()
    entries = tray.entries()
    texts = [entry.text for entry in entries]

    public_row = next(i for i, text in enumerate(texts) if text.startswith(f"{PUBLIC} (podman)"))
    logout = entries[public_row + 1]
    assert logout.text == f"    {LOGOUT_PUBLIC_TEXT}" and logout.enabled
    helm_row = next(entry for entry in entries if entry.text.startswith(
        "333333333333 us-west-2 (helm) - 15m left"))
    assert helm_row.enabled and helm_row.action is not None  # a click renews it
    store_notice = next(entry for entry in entries if entry.text.strip()
                        == "its credential helper is not installed")
    fixes = [entry for entry in store_notice.submenu if entry.action]
    assert [entry.text for entry in fixes][-1] == PLAIN_FILE_FIX
    assert all(entry.enabled for entry in fixes)
    ((subject, body, urgent),) = tray.notifier.sent  # one alert for both, urgent
    assert subject == "2 ECR logins need renewing" and urgent
    assert "public.ecr.aws expired" in body and "(log out: anonymous pulls work)" in body, body
    assert "333333333333 us-west-2 (Helm)" in body, body

    tray.click(logout.action)
    tray.stop()
    assert json.loads(laptop.podman_auth_path.read_text())["auths"] == {"quay.io": podman_others}
    assert json.loads(laptop.docker_config_path.read_text())["credsStore"] == "desktop"
