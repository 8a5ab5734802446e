"""``ecr-token-tray doctor``: check what a login needs, one pass/warn/fail line each.

Checks the docker and podman CLIs, the `aws` CLI (v2, v1 or missing), the credential
helpers config.json names, config.json's permissions, whether each ECR login's credential
store can hold it, the SSO configuration, and which tray backend and notification path this
machine will use. Reads local files, runs ``--version`` of local tools and asks the
credential helpers config.json names (as `status` does); never calls AWS. Exit 0 when
nothing failed, else 1.

Top-level imports stay light (cli.py imports every command module at start-up): GUI
libraries are only probed in a child interpreter.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import ntpath
import os
import posixpath
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from tray_app.errors import SourceError, TrayAppError
from tray_app.platforms import (
    aws_cli_places,
    aws_executable_names,
    file_modes_apply,
    is_windows,
)
from tray_app.settings import Paths

PASS, WARN, FAIL = "pass", "warn", "fail"
TOOL_TIMEOUT = 10.0
PROBE_TIMEOUT = 30.0


@dataclass(frozen=True)
class Check:
    level: str  # pass | warn | fail
    name: str
    detail: str
    fix: str = ""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the checks as JSON")


def run(args: argparse.Namespace) -> int:
    checks = collect_checks(Paths.from_env())
    if getattr(args, "json", False):
        print(json.dumps([c.__dict__ for c in checks], indent=2))
    else:
        print(render(checks))
    return 1 if any(c.level == FAIL for c in checks) else 0


def collect_checks(paths: Paths) -> list[Check]:
    checks = [check_docker(), check_podman(paths), *check_aws_cli()]
    checks += check_docker_config(paths.docker_config)
    checks += check_helm_config(paths.helm_registry_config)
    checks += check_credential_stores(paths)
    checks += check_sso_config(paths)
    checks += check_kubernetes(paths)
    tray = check_tray_backend(paths)
    checks += [tray, check_notifications(tray), check_installation()]
    return checks


def render(checks: Iterable[Check]) -> str:
    checks = list(checks)
    width = max((len(c.name) for c in checks), default=0)
    lines = []
    for check in checks:
        lines.append(f"{check.level.upper():<5} {check.name:<{width}}  {check.detail}")
        if check.fix and check.level != PASS:
            fix_lines = check.fix.splitlines()  # a fix may hold lines to paste (TOML)
            lines.append(f"{'':<5} {'':<{width}}  fix: {fix_lines[0]}")
            lines += [f"{'':<5} {'':<{width}}       {line}" for line in fix_lines[1:]]
    counts = {level: sum(c.level == level for c in checks) for level in (PASS, WARN, FAIL)}
    lines.append(f"\ndoctor: {counts[PASS]} pass, {counts[WARN]} warn, {counts[FAIL]} fail")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------
# Tools
# --------------------------------------------------------------------------------------
def _version_of(executable: str, *args: str) -> str | None:
    try:
        result = subprocess.run([executable, *args], capture_output=True, text=True,
                                timeout=TOOL_TIMEOUT, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (result.stdout.strip() or result.stderr.strip()).splitlines()
    return text[0][:120] if result.returncode == 0 and text else None


def check_docker(platform: str | None = None) -> Check:
    docker = shutil.which("docker")
    if docker is None:
        return Check(WARN, "docker", "docker CLI not found on PATH: Docker logins are written"
                     " to config.json directly (impossible with a credential store)",
                     "install Docker Desktop (it puts docker.exe on PATH)" if is_windows(platform)
                     else "install the Docker CLI (Debian: apt install docker.io; or Docker"
                     " Desktop)")
    version = _version_of(docker, "--version")
    if version is None:
        return Check(WARN, "docker", f"{docker} does not answer `docker --version`",
                     "reinstall the Docker CLI")
    return Check(PASS, "docker", f"{version} ({docker})")


def check_podman(paths: Paths) -> Check:
    podman = shutil.which("podman")
    if podman is None:
        used = [p for p in paths.podman_auth_files if p.exists()]
        if used:
            return Check(WARN, "podman", f"podman not found, but {used[0]} holds logins",
                         "install podman, or ignore if you no longer use it")
        return Check(PASS, "podman", "not installed (needed only for Podman logins)")
    version = _version_of(podman, "--version")
    if version is None:
        return Check(WARN, "podman", f"{podman} does not answer `podman --version`",
                     "reinstall podman")
    return Check(PASS, "podman", f"{version} ({podman})")


def check_aws_cli() -> list[Check]:
    from tray_app.renew.sso import aws_cli_at, find_aws_cli

    first = find_aws_cli()
    if first is not None and first.major is not None and first.major >= 2:
        return [Check(PASS, "aws CLI", f"AWS CLI v{first.version} ({first.path}): sign-ins run"
                      " `aws sso login`")]
    others = [aws_cli_at(path) for path in _other_aws_executables(first.path if first else None)]
    v2 = next((cli for cli in others if cli.major is not None and cli.major >= 2), None)
    hint = (f"put {Path(v2.path).parent} before the v1 on PATH (AWS CLI v{v2.version} is at"
            f" {v2.path})" if v2 else "install AWS CLI v2 (it has `aws sso login` and"
            " `aws configure sso`)")
    if first is None:
        return [Check(WARN, "aws CLI", "no `aws` on PATH: SSO sign-ins run natively (device"
                      " code in the browser)", hint)]
    if first.major is None:
        return [Check(WARN, "aws CLI", f"{first.path} does not answer `aws --version`: SSO"
                      " sign-ins run natively", hint)]
    return [Check(WARN, "aws CLI", f"{first.path} is AWS CLI v{first.version}, which has no"
                  " `aws sso login`: SSO sign-ins run natively (device code in the browser)",
                  hint)]


def _other_aws_executables(first: str | None, platform: str | None = None,
                           environ: Mapping[str, str] | None = None) -> list[str]:
    """Every other `aws` on PATH, plus the usual install places of CLI v2 on this OS (never
    a Linux path on Windows: under Wine it would be the host's)."""
    candidates = aws_candidates(platform, environ)
    seen: set[str] = set()
    found = []
    first_real = os.path.realpath(first) if first else None
    for candidate in candidates:
        real = os.path.realpath(candidate)
        if real in seen or real == first_real or not os.access(candidate, os.X_OK) \
                or not os.path.isfile(candidate):
            continue
        seen.add(real)
        found.append(candidate)
    return found


def aws_candidates(platform: str | None = None,
                   environ: Mapping[str, str] | None = None) -> list[str]:
    """Where an `aws` may be, in order: each PATH folder (Windows: aws.exe, aws.cmd), then
    the installers' default places."""
    environ = os.environ if environ is None else environ
    separator = ";" if is_windows(platform) else ":"
    join = ntpath.join if is_windows(platform) else posixpath.join
    folders = [d for d in environ.get("PATH", "").split(separator) if d]
    return [join(folder, name) for folder in folders
            for name in aws_executable_names(platform)] + aws_cli_places(platform, environ)


# --------------------------------------------------------------------------------------
# Docker's config.json
# --------------------------------------------------------------------------------------
def check_docker_config(path: Path, platform: str | None = None) -> list[Check]:
    from tray_app.fileio import read_json_file

    try:
        document = read_json_file(path)
    except SourceError as error:
        return [Check(FAIL, "config.json", error.title, error.hint)]
    if document is None:
        return [Check(PASS, "config.json", f"{path} does not exist yet (the first docker login"
                      " creates it)")]
    if not isinstance(document, dict):
        return [Check(FAIL, "config.json", f"{path}: not a JSON object",
                      "fix or move the file aside, then log in again")]
    return [_permissions(path, platform), *_credential_helpers(path, document)]


def _permissions(path: Path, platform: str | None = None, name: str = "config.json") -> Check:
    if not file_modes_apply(platform):  # Windows: the folder's ACL decides, not a mode
        return Check(PASS, name, f"{path}")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        return Check(WARN, name, f"{path} is readable by others (mode {mode:04o});"
                     " it may hold registry passwords", f"chmod 600 {path}")
    return Check(PASS, name, f"{path} (mode {mode:04o})")


# --------------------------------------------------------------------------------------
# Helm's registry config (`helm registry login`'s file)
# --------------------------------------------------------------------------------------
HELM_CONFIG = "helm config"


def check_helm_config(path: Path | None, platform: str | None = None) -> list[Check]:
    """Readable, private, and every credential helper it names installed."""
    from tray_app.fileio import read_json_file
    from tray_app.sources.auth_file import auths_table

    if path is None:
        return [Check(PASS, HELM_CONFIG, "not looked for (%APPDATA% is not set; set"
                      " HELM_REGISTRY_CONFIG to name it)")]
    try:
        document = read_json_file(path)
        if document is not None:
            auths_table(document, path)
    except TrayAppError as error:
        return [Check(FAIL, HELM_CONFIG, f"Helm's registry config: {error.title}", error.hint)]
    if document is None:
        return [Check(PASS, HELM_CONFIG, f"{path} does not exist (`helm registry login`"
                      " creates it; needed only for Helm's OCI registries)")]
    helpers = [replace(check, name=HELM_CONFIG,
                       detail=check.detail.replace("docker cannot", "helm cannot"))
               for check in _credential_helpers(path, document) if check.level != PASS]
    return [_permissions(path, platform, HELM_CONFIG), *helpers]


def _credential_helpers(path: Path, document: dict) -> list[Check]:
    named: dict[str, list[str]] = {}
    store = document.get("credsStore")
    helpers = document.get("credHelpers", {})
    checks = []
    if store is not None and not isinstance(store, str):
        checks.append(Check(FAIL, "credential helpers", f"{path}: credsStore is not a string",
                            'write it like "credsStore": "pass", or remove it'))
    elif store:
        named.setdefault(store, []).append("credsStore")
    if not isinstance(helpers, dict):
        checks.append(Check(FAIL, "credential helpers", f"{path}: credHelpers is not an object",
                            'write it like "credHelpers": {"HOST": "ecr-login"}'))
        helpers = {}
    for host, helper in helpers.items():
        if isinstance(helper, str) and helper:
            named.setdefault(helper, []).append(host)
    for helper, users in sorted(named.items()):
        binary = f"docker-credential-{helper}"
        where = "credsStore" if users == ["credsStore"] else ", ".join(users[:3]) + (
            f" and {len(users) - 3} more" if len(users) > 3 else "")
        found = shutil.which(binary)
        if found:
            checks.append(Check(PASS, "credential helpers", f"{binary} ({found}) for {where}"))
        elif helper.startswith("ecr-login-"):  # a per-profile wrapper `credhelper` writes
            checks.append(Check(FAIL, "credential helpers", f"{path} names {binary} for {where},"
                                " but it is not on PATH: docker cannot get those logins",
                                "run `ecr-token-tray credhelper enable HOST` to write it again"
                                " (and check that its folder is on PATH), or `ecr-token-tray"
                                " credhelper disable HOST`"))
        else:
            checks.append(Check(FAIL, "credential helpers", f"{path} names {binary} for {where},"
                                " but it is not on PATH: docker cannot read or store those"
                                " logins", f"install {binary}, or remove it from {path}"))
    if not named and not checks:
        checks.append(Check(PASS, "credential helpers", "none configured (logins live in"
                            " config.json)"))
    return checks


def check_credential_stores(paths: Paths, platform: str | None = None) -> list[Check]:
    """Logins whose credential store cannot hold them (tray_app.stores), each with its fix;
    with a broken ``credsStore`` and no ECR login yet, what the next login would meet."""
    from tray_app.settings import load_settings
    from tray_app.snapshot import take_snapshot
    from tray_app.stores import STALE_CACHE, store_problem

    settings, _ = load_settings(paths)  # a broken config.toml is reported by `status`
    snapshot = take_snapshot(paths, settings, platform=platform)
    problems = list(dict.fromkeys(r.store_problem for r in snapshot.registries
                                  if r.store_problem is not None))
    stores = snapshot.stores
    if stores is not None and stores.creds_store and not any(
            p.host not in stores.cred_helpers for p in problems):
        example = store_problem("HOST", stores, snapshot.generated_at)
        if example is not None and example.blocks_login:
            problems.append(example)
    checks = [Check(WARN if p.kind == STALE_CACHE else FAIL, "credential store",
                    f"{'any ECR registry' if p.host == 'HOST' else p.host}: {p.reason}", p.fix)
              for p in problems]
    if stores is not None and not checks:
        checks.append(Check(PASS, "credential store", "every ECR login's store can hold it"))
    return checks


# --------------------------------------------------------------------------------------
# SSO configuration
# --------------------------------------------------------------------------------------
def check_sso_config(paths: Paths) -> list[Check]:
    from datetime import UTC, datetime

    from tray_app.sources.aws_config import load_aws_config, read_sso_token
    from tray_app.timeutil import format_time_left

    try:
        config = load_aws_config(paths.aws_config)
    except SourceError as error:
        return [Check(FAIL, "SSO config", error.title, error.hint)]
    checks = [_problem_check(problem) for problem in config.problems]
    for profile in config.profiles.values():
        if profile.sso_start_url and not profile.sso_session and not profile.sso_region:
            checks.append(Check(FAIL, "SSO config", f"{config.path}: profile {profile.name} has"
                                " sso_start_url but no sso_region",
                                "add sso_region or run `aws configure sso`"))
        elif profile.uses_sso and not (profile.sso_account_id and profile.sso_role_name):
            checks.append(Check(WARN, "SSO config", f"{config.path}: profile {profile.name}"
                                " lacks sso_account_id or sso_role_name: it signs in but gets"
                                " no AWS credentials", "run `aws configure sso`"))
    if not config.sessions and not checks:
        return [Check(PASS, "SSO config", f"no SSO sessions in {config.path}")]
    now = datetime.now(UTC)
    for session in config.sessions.values():
        users = sorted(p.name for p in config.profiles.values() if config.session_of(p) == session)
        label = f"SSO session {session.name}" + (f" ({', '.join(users)})" if users else "")
        try:
            token = read_sso_token(paths.sso_cache_dir, session)
        except SourceError as error:
            checks.append(Check(WARN, "SSO session", f"{label}: {error.title}", error.hint))
            continue
        sign_in = (f"ecr-token-tray login --profile {users[0]}" if users
                   else f"aws sso login --sso-session {session.name}")
        refreshable = bool(token and not session.legacy and token.refreshable(now))
        if token is None or token.expires_at is None:
            checks.append(Check(WARN, "SSO session", f"{label}: not signed in", f"run `{sign_in}`"))
        elif token.expires_at > now:
            left = format_time_left(int((token.expires_at - now).total_seconds()))
            checks.append(Check(PASS, "SSO session", f"{label}: signed in, {left} left, silent"
                                f" refresh {'yes' if refreshable else 'no'}"))
        elif refreshable:
            checks.append(Check(PASS, "SSO session", f"{label}: token expired, renews silently"
                                " (refresh token valid)"))
        else:
            checks.append(Check(WARN, "SSO session", f"{label}: expired; needs a browser"
                                " sign-in", f"run `{sign_in}`"))
    return checks


def _problem_check(problem: str) -> Check:
    message, _, fix = problem.partition(" - ")
    return Check(FAIL, "SSO config", message, fix or "fix ~/.aws/config")


# --------------------------------------------------------------------------------------
# Kubernetes (local clusters' pull secrets)
# --------------------------------------------------------------------------------------
def check_kubernetes(paths: Paths) -> list[Check]:
    """kubectl, the contexts found, which count as local, and whether each answers.

    Only local (or listed) contexts are contacted, each with an explicit --context."""
    from tray_app.settings import load_settings

    present = [p for p in paths.kubeconfigs if p.is_file()]
    if not present:
        return [Check(PASS, "kubernetes", "no kubeconfig (needed only for the pull secrets of"
                      " local clusters)")]
    settings, _ = load_settings(paths)  # a broken config.toml is reported by `status`
    if not settings.kubernetes:
        return [Check(PASS, "kubernetes", "turned off in the config ([kubernetes] enabled ="
                      " false)")]
    from tray_app.sources.kubeconfig import is_loopback_server, load_kubeconfig
    from tray_app.sources.kubernetes import Kubectl, KubectlError, find_kubectl

    config = load_kubeconfig(paths.kubeconfigs, settings.kube_contexts)
    checks = [Check(FAIL, "kubeconfig", message, "fix the file") for _, message in
              config.problems]
    chosen = config.chosen()
    others = [c.name for c in config.contexts if not c.chosen]
    summary = (f"{len(config.contexts)} context(s) in {', '.join(map(str, config.files))};"
               f" local: {', '.join(f'{c.name} ({c.local_because})' for c in chosen) or 'none'}")
    if others:
        summary += f"; not contacted: {', '.join(others)}"
    checks.append(Check(PASS, "kube contexts", summary))
    checks += [_unlisted_loopback_check(context, paths.config_file, settings.kube_contexts)
               for context in config.contexts
               if not context.chosen and is_loopback_server(context.server)]
    if not chosen:
        return checks
    executable = find_kubectl()
    if executable is None:
        checks.append(Check(WARN, "kubectl", "not found on PATH: the pull secrets of local"
                            " clusters are not shown", "install kubectl"))
        return checks
    checks.append(Check(PASS, "kubectl", executable))
    for context in chosen:
        kubectl = Kubectl.for_context(executable, context.name, config.files)
        try:
            kubectl.run("get", "--raw", "/version", max_output=64 * 1024)
        except KubectlError as error:
            level = WARN if error.kind == "unreachable" else FAIL
            checks.append(Check(level, "kube cluster", f"{context.name}: {error.title}",
                                error.hint))
            continue
        checks.append(Check(PASS, "kube cluster", f"{context.name}: reachable"
                            f" ({context.server})"))
    return checks


def _unlisted_loopback_check(context, config_file: Path, listed: Iterable[str]) -> Check:
    """A context on 127.0.0.1 without a local tool's name (k3s's ``default``, a tunnel's end)
    is not asked unless listed: say so, and the exact lines that list it."""
    contexts = f"contexts = {json.dumps([*listed, context.name])}"  # also valid TOML
    import tomllib

    try:
        has_table = "kubernetes" in tomllib.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        has_table = False  # no file yet (or a broken one, which `status` reports)
    where = (f"in the [kubernetes] table of {config_file}, set:\n{contexts}" if has_table
             else f"add to {config_file}:\n[kubernetes]\n{contexts}")
    return Check(WARN, "kube contexts",
                 f"{context.name} ({context.server}) is not contacted: a loopback server"
                 " without a local tool's name may be a tunnel (ssh -L, Teleport, kubectl"
                 " port-forward) to a remote cluster",
                 "if it is a cluster on this machine (k3s names its context `default`), "
                 + where)


# --------------------------------------------------------------------------------------
# Tray and notifications
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrayCheck(Check):
    backend: str | None = None
    notification_server: bool | None = None  # on the session bus (None: not asked)


def tray_facts(paths: Paths | None = None):
    """What this session offers the tray (``tray_app.ui.backend.Facts``), asked in a child
    interpreter so this process loads no GUI library."""
    from tray_app.ui.backend import Facts, gather_facts

    choice = _configured_backend(paths or Paths.from_env())
    if getattr(sys, "frozen", False):  # a bundle cannot run `-m`; it carries it all anyway
        return gather_facts(choice)
    try:
        result = subprocess.run([sys.executable, "-m", "tray_app.ui.backend", choice],
                                capture_output=True, text=True, timeout=PROBE_TIMEOUT,
                                stdin=subprocess.DEVNULL)
        return Facts(**json.loads(result.stdout.strip().splitlines()[-1]))
    except (OSError, subprocess.TimeoutExpired, ValueError, IndexError, TypeError):
        return Facts(sys.platform if sys.platform in ("darwin", "win32") else "linux",
                     os.environ.get("DISPLAY") or None, os.environ.get("WAYLAND_DISPLAY") or None)


def _configured_backend(paths: Paths) -> str:
    from tray_app.settings import load_settings

    settings, problem = load_settings(paths)
    return "auto" if problem else settings.tray_backend


def check_tray_backend(paths: Paths | None = None) -> TrayCheck:
    """The same decision the tray makes (``tray_app.ui.backend.decide``)."""
    from tray_app.ui.backend import NATIVE, XORG, decide

    facts = tray_facts(paths)
    choice = decide(facts)
    server = facts.notification_server
    if choice.backend is None:
        if (choice.problem or "").startswith("no graphical session"):
            return TrayCheck(WARN, "tray", choice.problem, choice.fix or "")
        return TrayCheck(FAIL, "tray", choice.problem or "no tray", choice.fix or "")
    if choice.backend == XORG:
        return TrayCheck(WARN, "tray", choice.detail, _menu_fix(), backend=XORG)
    if choice.backend == NATIVE and "no StatusNotifierWatcher yet" in choice.detail:
        return TrayCheck(WARN, "tray", choice.detail, "add a tray to your panel (GNOME: the"
                         " AppIndicator extension; sway: waybar's tray module)", backend=NATIVE,
                         notification_server=server)
    return TrayCheck(PASS, "tray", choice.detail, backend=choice.backend,
                     notification_server=server)


def _menu_fix() -> str:
    from tray_app.install_info import current

    return current().menu_fix_command()


def check_installation() -> Check:
    """How this copy was installed, and the command that removes it."""
    from tray_app.install_info import current

    installation = current()
    where = {"installer": "the Linux installer", "pipx": "pipx", "uv": "uv tool",
             "bundle": "a bundle", "venv": "pip in a venv", "system": "pip"}[installation.kind]
    return Check(PASS, "installation", f"installed by {where} in {installation.prefix};"
                 f" uninstall: {installation.uninstall_command}")


def check_notifications(tray: TrayCheck) -> Check:
    if sys.platform == "darwin":
        return Check(PASS, "notifications", "plyer (macOS), then osascript")
    if sys.platform == "win32":
        return Check(PASS, "notifications", "balloons of the tray's own icon (a click on the"
                     " balloon or the icon runs what it names), then plyer")
    has_dbus_python = importlib.util.find_spec("dbus") is not None
    notify_send = shutil.which("notify-send")
    if tray.backend == "native":
        if tray.notification_server is False:
            return Check(WARN, "notifications", "no notification server on the session bus"
                         " (nothing owns or can start org.freedesktop.Notifications): alerts"
                         " show only in the tray", "start one (mako, dunst, or your desktop's"
                         " own), then restart the tray")
        return Check(PASS, "notifications", "org.freedesktop.Notifications over D-Bus"
                     " (dbus-fast): urgency, app icon, and action buttons where the"
                     " notification server offers them")
    paths = []
    if has_dbus_python:
        paths.append("plyer via D-Bus (dbus-python)")
    if tray.backend in ("appindicator", "gtk"):
        paths.append("the tray icon's D-Bus notifications (pystray)")
    if notify_send:
        paths.append(f"notify-send ({notify_send})")
    if not paths:
        return Check(WARN, "notifications", "no way to show notifications: no dbus-python,"
                     " no notify-send", "install libnotify-bin (notify-send)")
    bus = os.environ.get("DBUS_SESSION_BUS_ADDRESS") or _default_session_bus()
    if not bus:
        return Check(WARN, "notifications", f"would use {', then '.join(paths)}, but there is no"
                     " session D-Bus (DBUS_SESSION_BUS_ADDRESS unset)",
                     "run inside your desktop session")
    return Check(PASS, "notifications", ", then ".join(paths))


def _default_session_bus() -> str | None:
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    bus = Path(runtime) / "bus" if runtime else None
    return str(bus) if bus is not None and bus.exists() else None

