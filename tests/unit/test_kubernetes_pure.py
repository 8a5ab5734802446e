"""The pure side of the Kubernetes support: which contexts count as local, how kubeconfig
files merge, how a pull secret reads and is rewritten, and what `status` pays without one."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from tests.builders import ecr_password, host
from tests.unit.test_layering import modules_after
from tray_app.errors import TrayAppError
from tray_app.model import KubeSecretRef, RegistryStatus, Snapshot, State
from tray_app.renew.ecr import EcrToken
from tray_app.renew.errors import RenewError
from tray_app.renew.kube_store import _stuck_pulling, new_secret, with_token
from tray_app.settings import Settings, kubeconfig_files
from tray_app.sources.kubeconfig import is_loopback_server, load_kubeconfig, local_reason
from tray_app.sources.kubernetes import classify_failure, secret_logins
from tray_app.timeutil import utc_now
from tray_app.tokens import decode_docker_auth, make_authorization_token

DEV = host("111111111111", "eu-central-1")
REF = KubeSecretRef("kind-dev", "default", "ecr-pull")


def kubeconfig(path: Path, contexts: dict[str, str], current: str | None = None,
               extra_cluster: dict | None = None) -> Path:
    document = {
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": n, "cluster": {"server": s, **(extra_cluster or {})}}
                     for n, s in contexts.items()],
        "contexts": [{"name": n, "context": {"cluster": n, "user": n}} for n in contexts],
        "users": [{"name": n, "user": {"token": "t"}} for n in contexts],
        "current-context": current or next(iter(contexts), ""),
    }
    path.write_text(yaml.safe_dump(document))
    return path


def pull_secret(auths: dict, secret_type: str = "kubernetes.io/dockerconfigjson",
                **metadata) -> dict:
    key = ".dockerconfigjson" if secret_type.endswith("json") else ".dockercfg"
    body = {"auths": auths} if key == ".dockerconfigjson" else auths
    return {"type": secret_type,
            "metadata": {"name": "ecr-pull", "namespace": "default", **metadata},
            "data": {key: base64.b64encode(json.dumps(body).encode()).decode()}}


def entry(password: str) -> dict:
    return {"username": "AWS", "password": password, "auth": make_authorization_token(password)}


# -- which contexts -------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "server", "expected"), [
    ("kind-dev", "https://127.0.0.1:41000", "kind"),
    ("k3d-demo", "https://0.0.0.0:6550", "k3d"),
    ("minikube", "https://192.168.49.2:8443", "minikube"),
    ("docker-desktop", "https://kubernetes.docker.internal:6443", "docker-desktop"),
    ("rancher-desktop", "https://127.0.0.1:6443", "rancher-desktop"),
    ("orbstack", "https://127.0.0.1:26443", "orbstack"),
    ("colima", "https://127.0.0.1:6443", "colima"),
    ("colima-work", "https://127.0.0.1:6443", "colima"),
    ("microk8s", "https://127.0.0.1:16443", "microk8s"),
    # loopback alone is no proof: k3s's `default` copied from a server, reached through a
    # tunnel (ssh -L, Teleport, kubectl port-forward), is production on 127.0.0.1
    ("default", "https://127.0.0.1:6443", None),
    ("my-lab", "https://localhost:6443", None),
    ("my-lab", "https://[::1]:6443", None),
    ("my-lab", "https://127.10.0.1:6443", None),
    ("arn:aws:eks:eu-west-1:111111111111:cluster/prod",
     "https://ABC.gr7.eu-west-1.eks.amazonaws.com", None),
    ("gke_prod_europe-west1_main", "https://34.1.2.3", None),
    ("prod-kind-lookalike", "https://10.0.0.5:6443", None),
    ("orbstack", "https://k8s.orb.local:26443", "orbstack"),
    # a local tool's name on a server that is not a laptop's: production renamed
    ("kind-prod", "https://ABC.gr7.us-west-2.eks.amazonaws.com", None),
    ("minikube", "https://34.1.2.3:8443", None),
    ("docker-desktop", "https://k8s.example.com:6443", None),
])
def test_local_reason(name, server, expected):
    assert local_reason(name, name, server, {}, {}) == expected


def test_minikube_profile_is_recognised_by_its_extension():
    cluster = {"extensions": [{"name": "cluster_info", "extension": {
        "provider": "minikube.sigs.k8s.io", "version": "v1.33.0"}}]}
    assert local_reason("dev-profile", "dev-profile", "https://192.168.58.2:8443", {},
                        cluster) == "minikube"
    assert local_reason("dev-profile", "dev-profile", "https://prod.example.com", {},
                        cluster) is None


def test_loopback_parsing_never_raises_on_odd_servers():
    for server in ("", "not a url", "https://[bad", "https://", "unix:///var/run/k8s"):
        assert is_loopback_server(server) is False


def test_kubeconfig_env_lists_several_files_in_order(tmp_path):
    env = {"KUBECONFIG": f"{tmp_path}/a:{tmp_path}/b::{tmp_path}/a"}
    assert kubeconfig_files(env, tmp_path) == (tmp_path / "a", tmp_path / "b")
    assert kubeconfig_files({}, tmp_path) == (tmp_path / ".kube" / "config",)


def test_merge_first_file_wins_and_production_is_never_chosen(tmp_path):
    first = kubeconfig(tmp_path / "a", {"kind-dev": "https://127.0.0.1:1",
                                        "prod": "https://prod.example.com"}, current="prod")
    second = kubeconfig(tmp_path / "b", {"kind-dev": "https://10.9.9.9:1",
                                         "k3d-x": "https://127.0.0.1:2"}, current="k3d-x")
    config = load_kubeconfig([first, tmp_path / "missing", second])
    assert config.current == "prod"
    assert config.files == (first, second)
    assert config.get("kind-dev").server == "https://127.0.0.1:1"
    assert [c.name for c in config.chosen()] == ["kind-dev", "k3d-x"]
    listed = load_kubeconfig([first, second], listed=["prod"])
    assert listed.get("prod").local_because == "listed in config"


@pytest.mark.parametrize("text", ["clusters: [unclosed\n", "- just\n- a list\n",
                                  "\x00\x01binary"])
def test_a_broken_kubeconfig_is_one_problem_naming_it(tmp_path, text):
    good = kubeconfig(tmp_path / "good", {"kind-dev": "https://127.0.0.1:1"})
    broken = tmp_path / "broken"
    broken.write_text(text)
    config = load_kubeconfig([broken, good])
    assert len(config.problems) == 1 and str(broken) in config.problems[0][1]
    assert config.files == (good,)
    assert [c.name for c in config.chosen()] == ["kind-dev"]


def test_a_production_only_kubeconfig_is_skipped_without_parsing(tmp_path):
    from tray_app.sources.kubeconfig import may_name_local_context

    prod = kubeconfig(tmp_path / "prod", {"arn:aws:eks:eu-west-1:1:cluster/prod":
                                          "https://ABC.gr7.eu-west-1.eks.amazonaws.com"})
    assert not may_name_local_context(prod)
    assert may_name_local_context(prod, listed=["arn:aws:eks:eu-west-1:1:cluster/prod"])
    for contexts in ({"kind-dev": "https://10.0.0.1"}, {"Docker-Desktop": "https://x:6443"}):
        assert may_name_local_context(kubeconfig(tmp_path / "k", contexts))
    k3s = kubeconfig(tmp_path / "k3s", {"default": "https://127.0.0.1:6443"})
    assert not may_name_local_context(k3s)  # a loopback server alone cannot make one local
    assert may_name_local_context(k3s, listed=["default"])
    escaped = tmp_path / "escaped"
    escaped.write_text('contexts:\n- name: "\\x6bind-dev"\n')
    assert may_name_local_context(escaped)
    assert may_name_local_context(tmp_path / "missing")  # unreadable: parse and report


def test_malformed_entries_are_skipped_not_fatal(tmp_path):
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump({"contexts": [None, "x", {"name": 3},
                                                 {"name": "kind-a", "context": "oops"}],
                                    "clusters": {"not": "a list"}}))
    config = load_kubeconfig([path])
    assert [c.name for c in config.contexts] == ["kind-a"]
    assert config.contexts[0].server == "" and config.problems == ()


# -- reading secrets --------------------------------------------------------------------------
def test_secret_logins_reads_ecr_entries_with_their_expiry():
    found = secret_logins(pull_secret({DEV: entry(ecr_password(30)),
                                       "docker.io": entry("hub-password")}), "kind-dev")
    assert found.problems == []
    [login] = found.logins
    assert login.registry.host == DEV and login.kubernetes == REF
    assert login.source == "kubernetes" and login.expiry_from == "token"
    assert 28 * 60 < (login.expires_at - utc_now()).total_seconds() <= 30 * 60


def test_legacy_dockercfg_secrets_are_read_too():
    found = secret_logins(pull_secret({f"https://{DEV}": entry(ecr_password(30))},
                                      "kubernetes.io/dockercfg"), "minikube")
    assert [login.registry.host for login in found.logins] == [DEV]


@pytest.mark.parametrize(("data", "words"), [
    ("%%%", "not valid base64"),
    (base64.b64encode(b'{"auths": ').decode(), "not valid JSON"),
    (base64.b64encode(b'{"auths": []}').decode(), "`auths` is an array"),
    ("", "has no `.dockerconfigjson` data"),
])
def test_an_unreadable_secret_is_one_line_naming_it(data, words):
    secret = pull_secret({})
    secret["data"][".dockerconfigjson"] = data
    found = secret_logins(secret, "kind-dev")
    assert found.logins == []
    [problem] = found.problems
    assert "kind-dev default/ecr-pull" in problem.message and words in problem.message


# -- rewriting secrets ------------------------------------------------------------------------
def token(minutes: float = 720) -> EcrToken:
    password = ecr_password(minutes)
    return EcrToken("AWS", password, utc_now() + timedelta(minutes=minutes))


def test_with_token_replaces_only_that_hosts_entries():
    fresh = token()
    old = pull_secret({DEV: entry(ecr_password(5)), f"https://{DEV}/v1/": entry("x" * 20),
                       "docker.io": entry("hub-password"),
                       host("222222222222"): entry("other-ecr")},
                      labels={"a": "b"}, annotations={"c": "d"}, resourceVersion="7")
    updated = with_token(old, REF, DEV, fresh)
    auths = json.loads(base64.b64decode(updated["data"][".dockerconfigjson"]))["auths"]
    for key in (DEV, f"https://{DEV}/v1/"):
        assert decode_docker_auth(auths[key]["auth"]).password == fresh.password
        assert auths[key]["password"] == fresh.password
    assert auths["docker.io"] == entry("hub-password")
    assert auths[host("222222222222")] == entry("other-ecr")
    assert updated["metadata"] == old["metadata"]  # resourceVersion guards the write
    assert old["data"] != updated["data"]


def test_with_token_refuses_an_unreadable_secret_and_leaves_it():
    secret = pull_secret({})
    secret["data"][".dockerconfigjson"] = "%%%"
    with pytest.raises(RenewError, match="not touched"):
        with_token(secret, REF, DEV, token())
    assert secret["data"][".dockerconfigjson"] == "%%%"
    opaque = {"type": "Opaque", "metadata": {}, "data": {}}
    with pytest.raises(RenewError, match="not a pull secret"):
        with_token(opaque, REF, DEV, token())


def test_new_secret_is_a_dockerconfigjson_holding_the_token():
    fresh = token()
    document = new_secret(REF, DEV, fresh)
    assert document["type"] == "kubernetes.io/dockerconfigjson"
    assert document["metadata"]["namespace"] == "default"
    auths = json.loads(base64.b64decode(document["data"][".dockerconfigjson"]))["auths"]
    assert decode_docker_auth(auths[DEV]["auth"]).password == fresh.password


def pod(reason: str | None, image: str = f"{DEV}/web:1", secrets=("ecr-pull",),
        owned: bool = True) -> dict:
    state = {"waiting": {"reason": reason}} if reason else {"running": {}}
    return {"metadata": {"name": "p", **({"ownerReferences": [{"kind": "ReplicaSet"}]}
                                         if owned else {})},
            "spec": {"imagePullSecrets": [{"name": s} for s in secrets]},
            "status": {"containerStatuses": [{"image": image, "state": state}]}}


def test_only_owned_pods_stuck_on_this_registry_and_secret_are_restarted():
    assert _stuck_pulling(pod("ImagePullBackOff"), REF, DEV)
    assert _stuck_pulling(pod("ErrImagePull"), REF, DEV)
    assert not _stuck_pulling(pod(None), REF, DEV)
    assert not _stuck_pulling(pod("ImagePullBackOff", owned=False), REF, DEV)
    assert not _stuck_pulling(pod("ImagePullBackOff", image="nginx:1"), REF, DEV)
    assert not _stuck_pulling(pod("ImagePullBackOff", secrets=("other",)), REF, DEV)
    assert not _stuck_pulling({"metadata": None}, REF, DEV)


@pytest.mark.parametrize(("stderr", "kind"), [
    ("Unable to connect to the server: dial tcp 127.0.0.1:1: connect: connection refused",
     "unreachable"),
    ("The connection to the server 127.0.0.1:6443 was refused - did you specify the right"
     " host or port?", "unreachable"),
    ("Error from server (Conflict): error when replacing \"STDIN\": Operation cannot be"
     " fulfilled on secrets \"x\": the object has been modified", "conflict"),
    ('Error from server (NotFound): secrets "x" not found', "not-found"),
    ('Error from server (AlreadyExists): secrets "x" already exists', "exists"),
    ("error: You must be logged in to the server (Unauthorized)", "unauthorized"),
    ('Error from server (Forbidden): secrets is forbidden: User "dev" cannot list', "forbidden"),
    ('error: context "nope" does not exist', "no-context"),
    ("something odd", "failed"),
])
def test_kubectl_failures_are_classified(stderr, kind):
    error = classify_failure("kind-dev", "kubectl get", stderr.encode())
    assert error.kind == kind and "kind-dev" in str(error)


# -- settings, JSON, menu, start-up cost ---------------------------------------------------------
def test_kubernetes_settings(tmp_path):
    settings = Settings.from_document({"kubernetes": {
        "contexts": ["staging", "staging"], "restart_failed_pulls": True}}, tmp_path)
    assert settings.kube_contexts == ("staging",) and settings.restart_failed_pulls
    assert settings.kubernetes and not Settings().restart_failed_pulls
    for bad in ({"contexts": "staging"}, {"contexts": [""]}, {"enabled": "yes"},
                {"restart_failed_pulls": 1}):
        with pytest.raises(TrayAppError, match="kubernetes"):
            Settings.from_document({"kubernetes": bad}, tmp_path)


def kube_row(seconds_left: int | None = 1200) -> RegistryStatus:
    from tray_app.hosts import parse_registry

    return RegistryStatus(parse_registry(DEV), "kubernetes", utc_now(), seconds_left,
                          State.WARNING, "", "dev", "token", kubernetes=REF)


def test_json_rows_carry_the_kubernetes_object_only_for_secrets():
    from tray_app.render import snapshot_document

    docker = kube_row()._replace(source="docker-config", kubernetes=None)
    document = snapshot_document(Snapshot(utc_now(), (docker, kube_row()), ()))
    first, second = document["registries"]
    assert "kubernetes" not in first
    assert second["kubernetes"] == {"context": "kind-dev", "namespace": "default",
                                    "secret": "ecr-pull"}
    assert set(first) == set(second) - {"kubernetes"}


def test_menu_has_no_kubernetes_section_without_secrets():
    from tray_app.ui.loop import LoopView
    from tray_app.ui.menu import AutostartView, menu_entries

    docker = kube_row()._replace(source="docker-config", kubernetes=None)
    view = LoopView(Snapshot(utc_now(), (docker,), ()), None, True, None)
    assert "Kubernetes pull secrets" not in [e.text for e in menu_entries(view, AutostartView())]
    view = LoopView(Snapshot(utc_now(), (docker, kube_row()), ()), None, True, None)
    texts = [e.text for e in menu_entries(view, AutostartView())]
    assert "Kubernetes pull secrets" in texts
    assert any(t.startswith("kind-dev default/ecr-pull (111111111111 eu-central-1) - 20m left")
               for t in texts)


def test_status_without_a_kubeconfig_loads_neither_yaml_nor_the_kubernetes_code(home):
    code = ("import sys; sys.argv = ['ecr-token-tray', 'status', '--json']\n"
            "from tray_app import cli\n"
            "try:\n    cli.main()\nexcept SystemExit:\n    pass")
    loaded = modules_after(code, env=home.full_env())
    assert not {"yaml", "tray_app.sources.kubernetes", "tray_app.sources.kubeconfig",
                "concurrent.futures"} & loaded


def test_kubernetes_modules_import_no_heavy_library():
    from tests.unit.test_layering import HEAVY

    loaded = modules_after("import tray_app.sources.kubeconfig, tray_app.sources.kubernetes,"
                           " tray_app.renew.kube_store")
    assert {m.split(".")[0] for m in loaded} & set(HEAVY) == set()
    assert "yaml" not in loaded  # only when a kubeconfig is read


def test_the_tray_loop_makes_no_cluster_scanner_without_a_kubeconfig(home):
    from tests.loop_support import FakeClock, RecordingNotifier
    from tray_app.settings import Paths
    from tray_app.ui.loop import TrayLoop

    loop = TrayLoop(Paths.from_env(), RecordingNotifier(), clock=FakeClock(utc_now()))
    loop.step()
    assert loop.clusters is None and loop.recomputes == 1


def test_a_notification_about_a_secret_acts_on_that_secret():
    from tray_app.alerts import renewing_action

    snapshot = Snapshot(utc_now(), (kube_row(),), ())
    assert renewing_action(kube_row(), snapshot) == (
        "refresh-secret", DEV, "kind-dev", "default", "ecr-pull")
