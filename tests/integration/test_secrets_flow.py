"""The whole flow at debug level leaks no secret anywhere a user or another process can see.

One realistic HOME: `status`, `status --json`, `watch --once` (the tray's loop: expiry
notifications), `login --all` (SSO profile dev refreshed silently through the local
sso-oidc, legacy SSO profile ops signed in with `aws sso login` via the stand-in aws CLI,
the real Docker and Podman CLIs against the local TLS registry, one region denied),
`doctor`, another `watch --once` that renews silently and notifies a failure, and the
re-login engine and SSO step called in-process for their exception messages.

Every child the app starts is recorded by a wrapper first on PATH (docker, podman, aws,
notify-send: argv, and for notify-send stdin too). Then stdout, stderr, the log files,
notification texts, child argv, every file under HOME other than the credential stores,
and exception messages are scanned for every secret in play.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import shutil
import sys
import threading
from pathlib import Path

import pytest

from tests import figures
from tests.builders import (
    LEGACY_START_URL,
    SSO_ACCESS_TOKEN,
    SSO_PROFILES_CONFIG,
    SSO_REFRESH_TOKEN,
    SSO_START_URL,
    ecr_password,
    host,
    in_,
)
from tests.integration.leak_support import recording_wrappers, scannable, secret_hits
from tests.stand_ins.registry import EcrLab
from tray_app.tokens import make_authorization_token

pytestmark = [pytest.mark.docker,
              pytest.mark.skipif(shutil.which("docker") is None or shutil.which("podman") is None,
                                 reason="needs the docker and podman CLIs")]

KEY_ID = re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b")
DEV_HOST = host("222222222222", "eu-central-1")
OPS_HOST = host("333333333333", "us-west-2")
DENIED_HOST = host("555555555555", "ap-south-1")
LATE_HOST = host("444444444444", "us-west-2")  # added after the login: renewed by `watch`


def recording_notify_send(folder: Path, record: Path) -> None:
    """A `notify-send` stand-in: records argv and stdin (one JSON object a line), exit 0."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "notify-send"
    script.write_text(
        "#!/bin/sh\n"
        f"exec '{sys.executable}' -c 'import json,sys; print(json.dumps("
        '{"argv": sys.argv[1:], "stdin": sys.stdin.read()}))'
        f"' \"$@\" >> '{record}'\n")
    script.chmod(0o755)


def credential_stores(home) -> set[Path]:
    """Files whose job is to hold secrets (Docker's, Podman's, the AWS CLI's): not scanned."""
    stores = {home.docker_config_path, home.podman_auth_path, home.root / ".aws" / "credentials"}
    stores |= set(home.sso_cache_dir.glob("*"))
    return stores


def secrets_in_stores(home) -> set[str]:
    """Every credential value in the stores at the end (whatever wrote it)."""
    found: set[str] = set()
    for path in home.sso_cache_dir.glob("*.json"):
        document = json.loads(path.read_text())
        found |= {document[k] for k in ("accessToken", "refreshToken", "clientSecret")
                  if isinstance(document.get(k), str)}
    for path in (home.docker_config_path, home.podman_auth_path):
        for entry in json.loads(path.read_text()).get("auths", {}).values():
            if isinstance(entry, dict) and entry.get("auth"):
                found.add(entry["auth"])
                found.add(base64.b64decode(entry["auth"]).decode().partition(":")[2])
    return found


def scan(places: dict[str, str], secrets: set[str]) -> list[tuple[str, str]]:
    """(place, first 6 characters of the secret) for every hit; AWS key ids by shape too."""
    hits = secret_hits(places, secrets)
    hits += [(place, match[:6]) for place, text in places.items()
             for match in KEY_ID.findall(text)]
    return hits


def test_the_whole_flow_at_debug_level_leaks_no_secret(home, ecr_lab, sso_service, fake_aws,
                                                       tmp_path, monkeypatch,
                                                       app_logging_restored):
    # -- a realistic HOME ----------------------------------------------------------------
    home.aws_config(SSO_PROFILES_CONFIG)
    EcrLab.credentials_file(home.root, ("default",))
    home.sso_token("corp", SSO_START_URL, in_(-10), refresh=True)  # dev: silent refresh
    home.sso_token(LEGACY_START_URL, LEGACY_START_URL, in_(-30), refresh=False,
                   region="us-east-1")  # ops: only `aws sso login` helps
    old_passwords = [ecr_password(minutes) for minutes in (-60, 10, -5, 30)]
    home.docker_config({DEV_HOST: {"auth": make_authorization_token(old_passwords[0])},
                        OPS_HOST: {"auth": make_authorization_token(old_passwords[1])},
                        DENIED_HOST: {"auth": make_authorization_token(old_passwords[2])},
                        "registry.example.com": {"auth": "dXNlcjpwYXNz"}},
                       psFormat="table {{.ID}}")
    home.podman_auth({DEV_HOST: {"auth": make_authorization_token(old_passwords[3])}})
    mapping = {DEV_HOST: "dev", OPS_HOST: "ops", DENIED_HOST: "default", LATE_HOST: "ops"}
    registries = "".join(f'[registries."{h}"]\nprofile = "{p}"\n' for h, p in mapping.items())
    home.app_config(f"[renew]\nautomatic = false\n{registries}")
    ecr_lab.endpoint.faults.deny_regions = frozenset({"ap-south-1"})  # an error path too
    home.env.update(sso_service.env())

    argv_log, notify_log = tmp_path / "argv.jsonl", tmp_path / "notifications.jsonl"
    wrappers = tmp_path / "wrappers"
    tools_path = fake_aws.path_with_fake_first()
    recording_wrappers(wrappers, argv_log, "docker", "podman", "aws", search_path=tools_path)
    recording_notify_send(wrappers, notify_log)
    path = f"{wrappers}:{tools_path}"
    home.env.update(PATH=path, DBUS_SESSION_BUS_ADDRESS=f"unix:path={tmp_path / 'no-bus'}")
    monkeypatch.setenv("PATH", path)

    runs: dict[str, object] = {}

    def run(label: str, *args: str) -> object:
        result = home.run_cli("--debug", *args, input="", timeout=300)
        runs[label] = result
        return result

    # -- the flow --------------------------------------------------------------------------
    assert run("status", "status").returncode in (0, 1)
    before = json.loads(run("status --json", "status", "--json").stdout)
    assert {r["host"] for r in before["registries"]} >= {DEV_HOST, OPS_HOST, DENIED_HOST}

    assert run("watch (alerts)", "watch", "--once").returncode == 0
    alerts = [json.loads(line) for line in notify_log.read_text().splitlines()]
    assert alerts, runs["watch (alerts)"].stderr  # the expiry notification went out

    login = run("login --all", "login", "--all")
    assert login.returncode == 1, login.stdout + login.stderr  # ap-south-1 is denied
    assert login.stdout.count("refreshed ") == 3, login.stdout  # dev: docker+podman, ops
    assert any(line.startswith("failed") and "555555555555 ap-south-1" in line
               for line in login.stdout.splitlines()), login.stdout
    assert sso_service.calls["CreateToken:refresh_token"] == 1  # dev refreshed silently
    assert fake_aws.sso_logins == [["sso", "login", "--profile", "ops"]]  # ops signed in

    after = json.loads(run("status --json after", "status", "--json").stdout)
    assert {r["host"]: r["state"] for r in after["registries"]}[DEV_HOST] == "ok"
    run("doctor", "doctor")

    # The tray loop again, renewing on its own: LATE_HOST silently, the denied one fails.
    document = json.loads(home.docker_config_path.read_text())
    document["auths"][LATE_HOST] = {"auth": make_authorization_token(ecr_password(5))}
    home.docker_config_path.write_text(json.dumps(document))
    home.app_config(f"[renew]\nautomatic = true\n{registries}")
    assert run("watch (auto-renew)", "watch", "--once").returncode == 0
    notifications = [json.loads(line) for line in notify_log.read_text().splitlines()]
    assert len(notifications) > len(alerts), runs["watch (auto-renew)"].stdout
    assert any("ECR refresh failed" in n["argv"] for n in notifications)

    # -- in-process: the engine's and the SSO step's messages and exceptions ----------------
    from tray_app.logs import setup_logging
    from tray_app.renew import sso
    from tray_app.renew.engine import LoginOptions, renew
    from tray_app.settings import Paths, Settings
    from tray_app.snapshot import take_snapshot

    paths = Paths.from_env()
    setup_logging(paths.log_dir, debug=True)
    exception_texts: list[str] = []
    home.sso_token("corp", SSO_START_URL, in_(-10), refresh=True)
    sso_service.switches.refresh_accepted = False
    try:
        sso.ensure_credentials("dev", allow_browser=False)
    except Exception as error:  # whatever it is, its text is scanned
        exception_texts += [str(error), repr(error), getattr(error, "hint", "")]
    assert exception_texts, "the refused refresh raised nothing to scan"
    rows = take_snapshot(paths, Settings.load(paths.config_file)).registries
    report = renew(rows, LoginOptions(allow_browser=False))
    for thread in threading.enumerate():  # the engine's pool does not wait for its threads
        if thread.name.startswith("renew"):
            thread.join(60)
    exception_texts += [outcome.message for outcome in report.outcomes]
    assert any(o.result == "failed" for o in report.outcomes)
    for handler in logging.getLogger("tray_app").handlers:
        handler.flush()

    # -- the scan --------------------------------------------------------------------------
    secrets = set(ecr_lab.secrets()) | set(sso_service.issued_secrets)
    secrets |= {SSO_ACCESS_TOKEN, SSO_REFRESH_TOKEN, "client-secret-example"}
    secrets |= set(old_passwords) | {make_authorization_token(p) for p in old_passwords}
    secrets |= secrets_in_stores(home)
    secrets = scannable(secrets)
    assert len(ecr_lab.issuer.passwords) >= 3 and len(sso_service.issued_secrets) >= 4

    places: dict[str, str] = {}
    for label, result in runs.items():
        places[f"{label}: stdout"] = result.stdout
        places[f"{label}: stderr"] = result.stderr
    places["notifications (argv and stdin)"] = notify_log.read_text()
    places["child argv (docker, podman, aws)"] = argv_log.read_text()
    places["aws stand-in argv"] = fake_aws.argv_log.read_text()
    places["exception messages"] = "\n".join(exception_texts)
    stores = credential_stores(home)
    log_files = sorted(paths.log_dir.glob("*"))
    assert log_files and "DEBUG" in log_files[0].read_text()
    written = [p for p in sorted(home.root.rglob("*"))
               if p.is_file() and not p.is_symlink() and p not in stores]
    for file in written:
        places[f"file {file.relative_to(home.root)}"] = file.read_text(errors="replace")
        places[f"name {file.relative_to(home.root)}"] = str(file)

    # The scanner finds what is there: the credential stores do hold the fresh secrets.
    store_text = {str(p): p.read_text() for p in stores if p.is_file()}
    assert scan(store_text, secrets), "the scan would not see a secret"

    hits = scan(places, secrets)
    figures.record("secrets found", len(hits))
    figures.record("secret scan: secrets", len(secrets))
    figures.record("secret scan: places", len(places))
    figures.record("secret scan: bytes", sum(len(text.encode()) for text in places.values()))
    figures.record("secret scan: notifications", len(notifications))
    assert hits == []
    calls = [json.loads(line) for line in argv_log.read_text().splitlines()]
    logins = [argv for argv in calls if argv[1:2] == ["login"]]
    assert logins and all("--password-stdin" in argv for argv in logins)
