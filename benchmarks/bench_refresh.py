"""3. Refresh 12 registries across 3 regions vs refreshing one, against the local stand-ins.

The real ``ecr-token-tray login --all`` (the same engine the tray's Refresh runs) talks to
the local ECR API (``AWS_ENDPOINT_URL_ECR``), stores each login with the real Docker CLI
and verifies it against the TLS registry stand-in reached under the real ECR host names
through the CONNECT proxy: the re-login tests' ``running_ecr_lab``
(tests/stand_ins/registry.py). Token calls are counted by the ECR stand-in.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from benchmarks.common import BenchResult, Context, ms, ratio
from benchmarks.measure import ProcessUsage, median, run_measured
from tests.builders import FakeHome, docker_auth, host

NAME = "refresh"
TITLE = "3. Refresh: 12 registries in 3 regions vs 1 registry"
REGIONS = ("eu-central-1", "us-west-2", "ap-south-1")
MANY = 12
TARGET_CALLS = len(REGIONS)
TARGET_RATIO = 1.5


def registries(count: int) -> list[str]:
    return [host(f"{300000000000 + i:012d}", REGIONS[i % len(REGIONS)]) for i in range(count)]


def expired_home(root: Path, count: int) -> FakeHome:
    """Every login expired an hour ago, in Docker's config.json (the docker CLI rewrites it)."""
    from tests.stand_ins.registry import EcrLab

    shutil.rmtree(root, ignore_errors=True)
    home = FakeHome.create(root)
    home.docker_config({h: {"auth": docker_auth(-60)} for h in registries(count)})
    EcrLab.credentials_file(home.root)
    return home


def missing_parts() -> str | None:
    try:
        import tests.stand_ins.registry  # noqa: F401
        import tray_app.renew.engine  # noqa: F401
    except ImportError as error:
        return f"the re-login engine or its stand-ins are not built yet ({error})"
    if shutil.which("docker") is None:
        return "the docker CLI is not installed"
    return None


def run(ctx: Context) -> BenchResult:
    result = BenchResult(NAME, TITLE)
    missing = missing_parts()
    if missing:
        result.skipped = missing
        return result
    from benchmarks.bench_status import entry_point
    from tests.stand_ins.registry import make_test_ca, running_ecr_lab

    iterations = 2 if ctx.quick else 7
    ca = make_test_ca(ctx.workdir / "refresh-ca")
    usage: dict[int, list[ProcessUsage]] = {1: [], MANY: []}
    calls: dict[int, list[int]] = {1: [], MANY: []}
    argv = [ctx.python, *entry_point(ctx), "login", "--all", "--profile", "dev"]
    with running_ecr_lab(ca) as lab:
        for index in range(iterations + 1):  # the first round warms caches, not counted
            for count in (1, MANY):
                home = expired_home(ctx.workdir / f"refresh-home-{count}", count)
                env = ctx.child_env(home.full_env(**lab.env()))
                before = lab.endpoint.token_calls()
                run = run_measured(argv, env, home.root, timeout=300)
                made = lab.endpoint.token_calls() - before
                refreshed = sum(line.startswith("refreshed") for line in run.stdout.splitlines())
                if run.returncode != 0 or refreshed != count:
                    result.problems.append(
                        f"{count} registries: exit {run.returncode}, {refreshed} refreshed:"
                        f" {(run.stdout + run.stderr).strip()[-300:]}")
                    return result
                if index:
                    usage[count].append(run)
                    calls[count].append(made)
        docker_login = median(_docker_login_seconds(ctx, lab, iterations + 2))

    one = median([u.wall_s for u in usage[1]])
    many = median([u.wall_s for u in usage[MANY]])
    many_calls = max(calls[MANY])
    result.add(f"refresh {MANY} registries / {len(REGIONS)} regions: token calls",
               str(many_calls), f"{max(calls[1])} (1 registry)", "-",
               f"= {TARGET_CALLS}", many_calls == TARGET_CALLS)
    result.add(f"refresh {MANY} registries / {len(REGIONS)} regions: wall", ms(many),
               f"{ms(one)} (1 registry)", ratio(many, one), f"<= {TARGET_RATIO:g}x",
               many / one <= TARGET_RATIO)
    cpu_one = median([u.cpu_s for u in usage[1]])
    cpu_many = median([u.cpu_s for u in usage[MANY]])
    result.add(f"refresh {MANY} registries / {len(REGIONS)} regions: CPU (app + docker)",
               ms(cpu_many), f"{ms(cpu_one)} (1 registry)", ratio(cpu_many, cpu_one))
    result.notes += [
        f"`ecr-token-tray login --all --profile dev`, {iterations} runs each (plus one warm-up),"
        " every run on a fresh HOME whose logins expired an hour ago; wall = spawn to exit of"
        " the whole command (interpreter start, boto3 import, token calls, one `docker login"
        " --password-stdin` per registry, GET /v2/ verification, state file); CPU = the"
        " command and every child it waited for (os.wait4 rusage).",
        f"Registries: {MANY} accounts spread over {', '.join(REGIONS)}; the single-registry"
        f" floor is {registries(1)[0]}.",
        f"Each registry beyond the first costs {ms((many - one) / (MANY - 1))}; one"
        f" `docker login --password-stdin` against the same stand-ins takes"
        f" {ms(docker_login)} (median, measured alone). The engine fetches the {TARGET_CALLS}"
        " tokens in parallel but runs the docker logins one at a time (store.py holds a lock:"
        " docker rewrites config.json without one): the serial docker logins are most of the"
        " slope; the rest is each row's verification (GET /v2/ over TLS through the proxy)"
        " and bookkeeping, sharing the machine's cores with the docker CLI.",
    ]
    return result


def _docker_login_seconds(ctx: Context, lab, count: int) -> list[float]:
    """Wall time of bare `docker login`s with issued passwords (no app involved)."""
    home = expired_home(ctx.workdir / "refresh-docker-home", 1)
    env = home.full_env(**lab.env())
    seconds = []
    for index in range(count + 1):
        password, _ = lab.issuer.issue(REGIONS[0], "ecr")
        run = run_measured(["docker", "login", "--username", "AWS", "--password-stdin",
                            registries(1)[0]], env, home.root, timeout=60, stdin=password)
        if run.returncode != 0:
            raise RuntimeError(f"docker login failed: {run.stderr.strip()[-200:]}")
        if index:  # the first one warms caches
            seconds.append(run.wall_s)
    return seconds
