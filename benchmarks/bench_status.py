"""1. ``status --json`` with 1, 20 and 120 registries, against the bare interpreter, as
users run it: a wheel built from this tree, pip-installed into a fresh plain venv. The
floor is that venv's ``python -c pass``, interleaved with the app's runs in the same
environment, folder and warm bytecode (``os.wait4`` gives each child's own CPU and peak
RSS). Also: the prompt function's cost per call in real bash, zsh and fish, and what the
summary file costs each snapshot.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from pathlib import Path

from benchmarks.common import BenchResult, Context, mib, ms, ratio
from benchmarks.installed import InstalledApp, install_wheel, plain_env
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


def imported_modules(python: str, argv: list[str], env: dict, cwd: Path) -> list[str]:
    """Every module a run imports, from the interpreter's own ``-X importtime`` trace."""
    usage = run_measured([python, "-X", "importtime", *argv], env, cwd)
    return [m.group(1) for m in re.finditer(r"^import time:.*\|\s*(\S+)\s*$",
                                            usage.stderr, re.MULTILINE)]


def import_profile(python: str, argv: list[str], env: dict, cwd: Path, runs: int = 5
                   ) -> dict[str, int]:
    """Module -> its own import time (microseconds, the least over ``runs`` runs)."""
    best: dict[str, int] = {}
    for _ in range(runs):
        usage = run_measured([python, "-X", "importtime", *argv], env, cwd)
        for match in re.finditer(r"^import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)\s*$",
                                 usage.stderr, re.MULTILINE):
            name, micros = match.group(2), int(match.group(1))
            best[name] = min(best.get(name, micros), micros)
    return best


IMPORT_GROUPS = {  # what each design choice costs, as -X importtime lists it
    "typing (tomllib's, only with a config.toml)": ("typing", "_typing", "typing.io",
                                                     "typing.re"),
    "pathlib (+ urllib.parse, ipaddress, ntpath, fnmatch)":
        ("pathlib", "urllib", "urllib.parse", "ipaddress", "ntpath", "fnmatch"),
    "re (+ enum, functools, collections; pip's console script imports re itself)":
        ("re", "re._compiler", "re._parser", "re._constants", "re._casefix", "enum",
         "functools", "collections", "operator", "keyword", "reprlib", "itertools", "types",
         "_collections", "_functools", "_operator", "copyreg", "_sre", "contextlib"),
    "json": ("json", "json.decoder", "json.encoder", "json.scanner", "_json"),
    "datetime": ("datetime", "_datetime", "math"),
    "configparser (~/.aws/config)": ("configparser",),
    "base64 (tokens)": ("base64", "binascii", "struct", "_struct"),
}


def run(ctx: Context) -> BenchResult:
    result = BenchResult(NAME, TITLE)
    counts = (1, 20) if ctx.quick else (1, 20, TARGET_COUNT)
    iterations = 5 if ctx.quick else 31
    app = install_wheel(ctx.workdir, with_dependencies=not ctx.quick)
    homes = {n: build_home(ctx.workdir / f"status-home-{n}", n) for n in counts}
    envs = {n: plain_env(homes[n].full_env()) for n in counts}
    floor_argv = [app.python, "-c", "pass"]
    app_argv = [app.script, "status", "--json"]

    for n in counts:  # warm the page cache, and check the answer is right
        check = run_measured(app_argv, envs[n], homes[n].root)
        document = json.loads(check.stdout or "{}")
        found = len(document.get("registries", []))
        if found != n or check.returncode != 0:
            result.problems.append(f"{n} registries: status found {found}, exit"
                                   f" {check.returncode}: {check.stderr.strip()[:200]}")
    run_measured(floor_argv, envs[counts[0]], homes[counts[0]].root)

    floors: list[ProcessUsage] = []
    apps: dict[int, list[ProcessUsage]] = {n: [] for n in counts}
    for _ in range(iterations):
        for n in counts:  # a floor before each app run: load drift hits both alike
            floors.append(run_measured(floor_argv, envs[n], homes[n].root))
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
    home, env = homes[biggest], envs[biggest]
    modules = imported_modules(app.python, app_argv, env, home.root)
    heavy = sorted({m for m in modules if m.split(".")[0] in HEAVY_MODULES})
    bare = set(imported_modules(app.python, floor_argv[1:], env, home.root))
    extra = [m for m in modules if m not in bare]
    result.add(f"status --json, {biggest} registries: heavy imports",
               ", ".join(heavy) if heavy else "none", target="none", met=not heavy)
    if heavy:
        result.problems.append(f"status imported {', '.join(heavy)}")
    _prompt_command(ctx, app, home, env, result, iterations)
    _summary_write(app, home, env, result)
    for shell in ("bash", "zsh", "fish"):
        _prompt_function(ctx, app, home, env, shell, result)

    profile = import_profile(app.python, app_argv, env, home.root, runs=3 if ctx.quick else 9)
    ours = sum(v for k, v in profile.items() if k.split(".")[0] == "tray_app")
    groups = [(label, sum(profile.get(m, 0) for m in names if m in extra))
              for label, names in IMPORT_GROUPS.items()]
    result.notes += [
        f"Installed as users install it: `pip wheel` of this tree, then `pip install` into a"
        f" fresh `python -m venv` ({'with' if app.with_dependencies else 'without'} its"
        " dependencies; the status path imports none of them). Floor: that venv's"
        " `python -c pass`; app: its `ecr-token-tray` console script, run directly.",
        f"{iterations} interleaved runs per figure (a floor run before each app run); wall ="
        " spawn to reaped (os.wait4, parent side); peak RSS = GNU time's %M for the child.",
        f"Each HOME: half the logins in ~/.docker/config.json, a quarter in Podman's"
        f" auth.json, a quarter via ecr-login (credHelpers + ~/.ecr/cache.json), 3 SSO"
        f" profiles and a cached SSO token; regions {', '.join(REGIONS)}.",
        f"Modules imported beyond the bare interpreter ({biggest} registries): {len(extra)};"
        f" checked absent: {', '.join(HEAVY_MODULES)}.",
        "Import profile of `status --json` beyond the bare interpreter (-X importtime, own"
        " time, least of several runs): "
        + ", ".join(f"{label} {micros / 1000:.1f} ms" for label, micros in groups)
        + f", tray_app's own {len([k for k in profile if k.startswith('tray_app')])} modules"
        f" {ours / 1000:.1f} ms (class bodies, compiled patterns); all beyond the floor"
        f" {sum(profile.get(m, 0) for m in extra) / 1000:.1f} ms.",
        f"CPU (user+sys) median: floor {ms(median([u.cpu_s for u in floors]))}, "
        + ", ".join(f"{n} registries {ms(median([u.cpu_s for u in apps[n]]))}"
                    for n in counts) + ".",
    ]
    return result


def _prompt_command(ctx: Context, app: InstalledApp, home: FakeHome, env: dict,
                    result: BenchResult, iterations: int) -> None:
    """`ecr-token-tray prompt` (tmux, starship, bars): reads the summary, no snapshot."""
    argv = [app.script, "prompt"]
    run_measured([app.script, "status", "--quiet"], env, home.root)  # a fresh summary
    floors, walls = [], []
    for _ in range(iterations):
        floors.append(run_measured([app.python, "-c", "pass"], env, home.root).wall_s)
        walls.append(run_measured(argv, env, home.root).wall_s)
    result.add(f"prompt (tmux/starship/waybar), {TARGET_COUNT if not ctx.quick else 20}"
               " registries: wall", ms(median(walls)), f"{ms(median(floors))} (python -c pass)",
               ratio(median(walls), median(floors)))


SUMMARY_TIMING = """
import json, sys, time
from tray_app.settings import Paths, load_settings
from tray_app.snapshot import take_snapshot
from tray_app.summary import write_summary
paths = Paths.from_env()
settings, _ = load_settings(paths)
snapshot = take_snapshot(paths, settings)
writes, snapshots = [], []
for _ in range(200):
    start = time.perf_counter(); write_summary(paths, snapshot, settings)
    writes.append(time.perf_counter() - start)
for _ in range(20):
    start = time.perf_counter(); take_snapshot(paths, settings)
    snapshots.append(time.perf_counter() - start)
print(json.dumps([sorted(writes)[len(writes) // 2], sorted(snapshots)[len(snapshots) // 2]]))
"""


def _summary_write(app: InstalledApp, home: FakeHome, env: dict, result: BenchResult) -> None:
    """What writing the summary adds to one snapshot (in-process, warm)."""
    out = subprocess.run([app.python, "-c", SUMMARY_TIMING], env=env, cwd=home.root,
                         capture_output=True, text=True, check=True, timeout=300)
    write, snapshot = json.loads(out.stdout)
    result.add("summary file write, per snapshot", f"{write * 1e6:.0f} µs",
               f"{snapshot * 1000:.1f} ms (the snapshot itself, {home.root.name})",
               ratio(write, snapshot))


SHELL_LOOP = {
    "bash": ("for ((i = 0; i < {n}; i++)); do {call}; done", "__ecr_token_tray_update",
             "__bench_empty() { :; }", "__bench_empty"),
    "zsh": ("for ((i = 0; i < {n}; i++)); do {call}; done", "__ecr_token_tray_update",
            "__bench_empty() { :; }", "__bench_empty"),
    # fish: `seq` would be a process; `string repeat` builds the list with a builtin
    "fish": ("for i in (string split -n ' ' -- (string repeat -n {n} 'x ')); {call}; end",
             "ecr_token_tray_prompt",
             "function __bench_empty; end", "__bench_empty"),
}
SHELL_ARGV = {"bash": ["bash", "--norc", "--noprofile"], "zsh": ["zsh", "-f"],
              "fish": ["fish", "--no-config"]}


def _prompt_function(ctx: Context, app: InstalledApp, home: FakeHome, env: dict, shell: str,
                     result: BenchResult) -> None:
    """Per-call cost of the prompt function: a shell calling it N times, against the same
    shell calling an empty function N times; the shell's start-up (a run with no calls) is
    taken off both. PATH is emptied after init, so an external command would fail loudly."""
    if shutil.which(shell) is None:
        result.notes.append(f"{shell}: not installed, prompt function not measured")
        return
    calls = 200 if ctx.quick else 1000
    init = subprocess.run([app.script, "prompt", "init", shell], env=env, capture_output=True,
                          text=True, check=True).stdout
    loop, call, empty_def, empty_call = SHELL_LOOP[shell]
    empty_path = "set PATH" if shell == "fish" else "PATH="
    scripts = {}
    for name, body in (("prompt", loop.format(n=calls, call=call)),
                       ("empty", loop.format(n=calls, call=empty_call)), ("start-up", "")):
        path = ctx.workdir / f"bench-{shell}-{name}"
        path.write_text("\n".join([init, empty_def, empty_path, body, ""]))
        scripts[name] = path
    timings: dict[str, list[float]] = {name: [] for name in scripts}
    for _ in range(3 if ctx.quick else 9):
        for name, path in scripts.items():
            start = time.perf_counter()
            done = subprocess.run([*SHELL_ARGV[shell], str(path)], env=env, cwd=home.root,
                                  capture_output=True, text=True, timeout=300)
            timings[name].append(time.perf_counter() - start)
            if done.returncode != 0 or done.stderr:
                result.problems.append(f"{shell} loop failed: {done.stderr.strip()[:200]}")
                return
    start_up = median(timings["start-up"])
    per_call = (median(timings["prompt"]) - start_up) / calls
    empty = (median(timings["empty"]) - start_up) / calls
    result.add(f"prompt function, {shell}: per call", f"{per_call * 1e6:.0f} µs",
               f"{empty * 1e6:.1f} µs (an empty function)", ratio(per_call, empty),
               "no process", True)
