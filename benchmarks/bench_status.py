"""1. ``status --json`` with 1, 20 and 120 registries, against the bare interpreter.

Both the app and the floor (``python -c pass``) start the same way: the same interpreter,
environment, working folder and warm bytecode cache, spawned and reaped by this runner
(``os.wait4`` gives each child's own CPU and peak RSS). Runs are interleaved so that drift
in the machine's load hits both alike.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from benchmarks.common import BenchResult, Context, mib, ms, ratio
from benchmarks.measure import ProcessUsage, median, run_measured
from tests.builders import FakeHome, docker_auth, host, in_

NAME = "status"
TITLE = "1. `status --json`: wall time and peak RSS vs the bare interpreter"
HEAVY_MODULES = ("boto3", "botocore", "pystray", "PIL", "plyer", "gi")
REGIONS = ("eu-central-1", "us-east-1", "us-west-2", "ap-south-1")
TARGET_RATIO = 3.0
TARGET_COUNT = 120

AWS_CONFIG = """\
[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1
sso_registration_scopes = sso:account:access

[profile dev]
sso_session = corp
sso_account_id = 200000000000
sso_role_name = Developer
region = eu-central-1

[profile ops]
sso_session = corp
sso_account_id = 200000000001
sso_role_name = Admin
region = us-east-1

[profile legacy]
sso_start_url = https://legacy.awsapps.com/start
sso_region = us-east-1
sso_account_id = 200000000002
sso_role_name = ReadOnly
region = us-west-2
"""


def build_home(root: Path, count: int, soonest_minutes: int = 20) -> FakeHome:
    """A HOME with ``count`` ECR logins spread over every file source, like a busy laptop:
    half in Docker's config.json, a quarter in Podman's auth.json, a quarter handled by
    amazon-ecr-credential-helper (with its cache), plus SSO profiles and a cached token.
    Expiries spread from ``soonest_minutes`` to 12 h."""
    home = FakeHome.create(root)
    docker_auths: dict[str, dict] = {}
    podman_auths: dict[str, dict] = {}
    ecr_login: dict = {}
    for index in range(count):
        registry = host(f"{200000000000 + index:012d}", REGIONS[index % len(REGIONS)])
        # a spread of states (warning ... ok with the default soonest_minutes)
        minutes = soonest_minutes + (index * 37) % (720 - soonest_minutes)
        kind = index % 4
        if kind in (0, 1):
            docker_auths[registry] = {"auth": docker_auth(minutes)}
        elif kind == 2:
            podman_auths[registry] = {"auth": docker_auth(minutes)}
        else:
            ecr_login[registry] = in_(minutes)
    extra = {"credHelpers": dict.fromkeys(ecr_login, "ecr-login")} if ecr_login else {}
    home.docker_config(docker_auths, **extra)
    if podman_auths:
        home.podman_auth(podman_auths)
    if ecr_login:
        home.ecr_login_cache(ecr_login)
    home.aws_config(AWS_CONFIG)
    home.sso_token("corp", "https://corp.awsapps.com/start", in_(200))
    return home


def entry_point(ctx: Context) -> list[str]:
    """How users start it: the ``ecr-token-tray`` console script next to the interpreter
    (run by that interpreter, as its shebang would), else ``-m tray_app``."""
    script = Path(ctx.python).with_name("ecr-token-tray")
    return [str(script)] if script.is_file() else ["-m", "tray_app"]


def imported_modules(ctx: Context, argv: list[str], env: dict, cwd: Path) -> list[str]:
    """Every module a run imports, from the interpreter's own ``-X importtime`` trace."""
    usage = run_measured([ctx.python, "-X", "importtime", *argv], env, cwd)
    return [m.group(1) for m in re.finditer(r"^import time:.*\|\s*(\S+)\s*$",
                                            usage.stderr, re.MULTILINE)]


def slowest_imports(ctx: Context, argv: list[str], env: dict, cwd: Path,
                    top: int = 8) -> list[tuple[str, int]]:
    """The top-level imports with the largest cumulative time (microseconds)."""
    usage = run_measured([ctx.python, "-X", "importtime", *argv], env, cwd)
    found = []
    for match in re.finditer(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)\s*$",
                             usage.stderr, re.MULTILINE):
        if len(match.group(3)) == 1:  # top level: one space of indentation
            found.append((match.group(4), int(match.group(2))))
    return sorted(found, key=lambda item: -item[1])[:top]


def run(ctx: Context) -> BenchResult:
    result = BenchResult(NAME, TITLE)
    counts = (1, 20) if ctx.quick else (1, 20, TARGET_COUNT)
    iterations = 3 if ctx.quick else 31
    homes = {n: build_home(ctx.workdir / f"status-home-{n}", n) for n in counts}
    envs = {n: ctx.child_env(homes[n].full_env()) for n in counts}
    floor_argv = [ctx.python, "-c", "pass"]
    app_argv = [ctx.python, *entry_point(ctx), "status", "--json"]

    for n in counts:  # warm the bytecode cache, and check the answer is right
        check = run_measured(app_argv, envs[n], homes[n].root)
        document = json.loads(check.stdout)
        if len(document["registries"]) != n or check.returncode != 0:
            result.problems.append(
                f"{n} registries: status found {len(document['registries'])}, exit"
                f" {check.returncode}: {check.stderr.strip()[:200]}")
    run_measured(floor_argv, envs[counts[0]], homes[counts[0]].root)

    floors: list[ProcessUsage] = []
    apps: dict[int, list[ProcessUsage]] = {n: [] for n in counts}
    for _ in range(iterations):
        floors.append(run_measured(floor_argv, envs[counts[0]], homes[counts[0]].root))
        for n in counts:
            apps[n].append(run_measured(app_argv, envs[n], homes[n].root))

    floor_wall = median([u.wall_s for u in floors])
    floor_rss = median([u.max_rss_kb for u in floors])
    for n in counts:
        wall = median([u.wall_s for u in apps[n]])
        rss = median([u.max_rss_kb for u in apps[n]])
        target = n == TARGET_COUNT
        result.add(f"status --json, {n} registries: wall", ms(wall),
                   f"{ms(floor_wall)} (python -c pass)", ratio(wall, floor_wall),
                   f"<= {TARGET_RATIO:g}x" if target else "-",
                   (wall / floor_wall <= TARGET_RATIO) if target else None)
        result.add(f"status --json, {n} registries: peak RSS", mib(rss),
                   f"{mib(floor_rss)} (python -c pass)", ratio(rss, floor_rss))

    biggest = counts[-1]
    modules = imported_modules(ctx, app_argv[1:], envs[biggest], homes[biggest].root)
    heavy = sorted({m for m in modules if m.split(".")[0] in HEAVY_MODULES})
    bare = set(imported_modules(ctx, floor_argv[1:], envs[biggest], homes[biggest].root))
    extra = [m for m in modules if m not in bare]
    result.add(f"status --json, {biggest} registries: heavy imports",
               ", ".join(heavy) if heavy else "none", target="none", met=not heavy)
    if heavy:
        result.problems.append(f"status imported {', '.join(heavy)}")
    slow = slowest_imports(ctx, app_argv[1:], envs[biggest], homes[biggest].root)
    result.notes += [
        f"{iterations} interleaved runs per figure; bytecode cache warm; wall = spawn to"
        " reaped (os.wait4, parent side); peak RSS = GNU time's %M for the child (a child"
        " forked straight from the runner would report the runner's own size).",
        f"Each HOME: half the logins in ~/.docker/config.json, a quarter in Podman's"
        f" auth.json, a quarter via ecr-login (credHelpers + ~/.ecr/cache.json), 3 SSO"
        f" profiles and a cached SSO token; regions {', '.join(REGIONS)}.",
        f"Modules imported beyond the bare interpreter ({biggest} registries): {len(extra)};"
        f" checked absent: {', '.join(HEAVY_MODULES)}.",
        "Slowest top-level imports (-X importtime, cumulative; site is in the floor too): "
        + ", ".join(f"{name} {micros / 1000:.1f} ms" for name, micros in slow) + ".",
        f"CPU (user+sys) median: floor {ms(median([u.cpu_s for u in floors]))}, "
        + ", ".join(f"{n} registries {ms(median([u.cpu_s for u in apps[n]]))}"
                    for n in counts) + ".",
    ]
    return result
