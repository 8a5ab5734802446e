"""``ecr-token-tray credhelper enable|disable|status [HOST ...|--all]``.

Hands ECR registries to amazon-ecr-credential-helper (it fetches a fresh token on every
Docker operation, so the 12-hour expiry stops mattering) and back; see
:mod:`tray_app.credhelper`. Module level stays light: cli.py imports it at start-up.
"""

from __future__ import annotations

import argparse
import sys

from tray_app import APP_NAME
from tray_app.credhelper import DOCKER_SOURCES
from tray_app.errors import TrayAppError
from tray_app.hosts import RegistryRef, host_of, parse_registry
from tray_app.model import RegistryStatus, Snapshot

EXIT_OK = 0
EXIT_NOT_ALL_DONE = 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["enable", "disable", "status"],
                        help="enable: hand HOSTs to docker-credential-ecr-login; disable: take"
                             " them back; status: which host uses which helper and profile")
    parser.add_argument("hosts", nargs="*", metavar="HOST", help="registry host (or https://host)")
    parser.add_argument("--all", action="store_true",
                        help="enable: every ECR registry Docker logs in to; disable: every"
                             " registry on ecr-login")
    parser.add_argument("--profile", metavar="P",
                        help="enable: use this AWS profile for every HOST (default: the"
                             " registry's profile, as `status` shows it)")
    parser.add_argument("--login", action="store_true",
                        help="disable: log in with `docker login` at once, so the registry"
                             " keeps working")
    parser.add_argument("--no-verify", action="store_true",
                        help="enable: hand over without asking the helper for a token and"
                             " checking it (offline); by default a registry that fails the"
                             " check is left as it was")
    parser.add_argument("--wrapper-folder", metavar="DIR", type=_folder,
                        help="where the per-profile wrappers go (default: [credhelper]"
                             " wrapper_folder in config.toml, else ~/.local/bin); Docker must"
                             " find it on PATH")


def _folder(text: str):
    from pathlib import Path

    folder = Path(text).expanduser()
    if not folder.is_absolute():
        folder = folder.absolute()
    return folder


def run(args: argparse.Namespace) -> int:
    from tray_app.logs import setup_logging
    from tray_app.settings import Paths

    if args.action != "status" and not args.hosts and not args.all:
        raise TrayAppError(f"credhelper {args.action}: name a HOST or use --all",
                           "see `ecr-token-tray credhelper --help`")
    if args.hosts and args.all:
        raise TrayAppError("give either HOST arguments or --all, not both",
                           "see `ecr-token-tray credhelper --help`")
    paths = Paths.from_env()
    if args.action == "status":
        return _status(paths, args)
    setup_logging(paths.log_dir, getattr(args, "debug", False))
    if args.action == "enable":
        return _enable(args, paths)
    return _disable(args, paths)


# -- enable ----------------------------------------------------------------------------------
def _enable(args: argparse.Namespace, paths) -> int:
    from tray_app import credhelper
    from tray_app.service.handover import hand_over

    credhelper.require_helper()  # before anything else: nothing changes without it
    config = credhelper.read_config(paths.docker_config)
    credhelper.refuse_creds_store(config)
    already = credhelper.mapped_helpers(config)
    taken = _snapshot()
    snapshot = taken.snapshot
    folder = credhelper.wrapper_folder(args.wrapper_folder or taken.settings.wrapper_folder)
    problems = 0
    targets: list[credhelper.Target] = []
    for registry, text in _wanted(args, snapshot, already):
        if registry is None:
            print(f"{text}: not an Amazon ECR registry host - ecr-login serves only ECR"
                  " (e.g. 123456789012.dkr.ecr.us-west-2.amazonaws.com); nothing changed")
            problems += 1
            continue
        profile = args.profile or _profile(registry, snapshot)
        helper = credhelper.helper_for(profile)
        if already.get(registry.host) == helper and _wrapper_present(helper, folder):
            print(f"{registry.host}: already on {helper}")
            continue  # (a missing wrapper is written again)
        targets.append(credhelper.Target(registry, profile))
    if not targets:
        if not problems and args.all:
            print("No ECR registry to hand over (Docker holds no ECR login that is not on"
                  " ecr-login already); name a HOST.")
        return EXIT_NOT_ALL_DONE if problems else EXIT_OK
    results = hand_over(paths.docker_config, targets, folder, verify=not args.no_verify)
    for result in results:
        print(result.message)
        if result.committed:
            print(f"{result.host}: {result.check}")
        problems += not result.committed
    if args.no_verify and any(r.helper != "ecr-login" for r in results) \
            and not credhelper.on_path(folder):
        print(f"note: {folder} is not on PATH, so Docker cannot run the wrapper - add it,"
              f' e.g. `export PATH="{folder}:$PATH"` in ~/.profile, and open a new shell')
    return EXIT_NOT_ALL_DONE if problems else EXIT_OK


def _wrapper_present(helper: str, folder) -> bool:
    from tray_app.credhelper import find_wrapper
    from tray_app.sources.docker_config import ecr_login_profile

    profile = ecr_login_profile(helper)
    return profile is None or find_wrapper(profile, folder) is not None


def _wanted(args: argparse.Namespace, snapshot: Snapshot, already: dict[str, str]
            ) -> list[tuple[RegistryRef | None, str]]:
    if not args.all:
        return [(parse_registry(text), text) for text in args.hosts]
    rows = [r for r in snapshot.registries
            if r.source.startswith(DOCKER_SOURCES) and r.host not in already]
    unique = {r.host: r.registry for r in rows}
    return [(registry, host) for host, registry in unique.items()]


def _profile(registry: RegistryRef, snapshot: Snapshot) -> str | None:
    """The profile `status` shows for this registry's Docker login, else the mapping's."""
    for row in snapshot.registries:
        if row.host == registry.host and row.source.startswith(DOCKER_SOURCES):
            return row.profile
    return _mapped_profile(registry)


def _mapped_profile(registry: RegistryRef) -> str | None:
    from tray_app.settings import Paths
    from tray_app.snapshot import configured_profile

    return configured_profile(registry, Paths.from_env())


def _snapshot():
    from tray_app.service.snapshots import take

    taken = take(kubernetes=False)  # cluster secrets are not Docker's
    if taken.settings_problem:
        print(f"{APP_NAME}: {taken.settings_problem}", file=sys.stderr)
    return taken


# -- disable ---------------------------------------------------------------------------------
def _disable(args: argparse.Namespace, paths) -> int:
    from tray_app import credhelper
    from tray_app.service.handover import take_back

    config = credhelper.read_config(paths.docker_config)
    if config is not None and credhelper.is_ecr_login(config.creds_store):
        raise TrayAppError(f"{config.path}: `credsStore` is {config.creds_store} - every"
                           " registry goes through it; nothing changed",
                           "remove `credsStore` from the file to stop using it")
    mapped = credhelper.mapped_helpers(config)
    hosts = list(mapped) if args.all else [host_of(text) for text in args.hosts]
    problems = 0
    for host in hosts:
        if host not in mapped:
            print(f"{host}: not on ecr-login; nothing to do")
    results = take_back(paths.docker_config, [h for h in hosts if h in mapped],
                        _chosen_folder(args, paths), login=_login_again if args.login else None)
    for result in results:
        print(result.message)
    if not results:
        if args.all:
            print("No registry is on ecr-login.")
        return EXIT_OK
    if not args.login:
        print("These registries have no login now: log in with `ecr-token-tray login"
              f" {' '.join(r.host for r in results)}` (or disable with --login)")
    problems += sum(r.restored for r in results)
    return EXIT_NOT_ALL_DONE if problems else EXIT_OK


def _login_again(rows):
    """``docker login`` each host (the engine of `ecr-token-tray login`), printing each
    outcome; the report says which hosts now hold a working login."""
    from tray_app.renew.engine import LoginOptions, renew

    report = renew(rows, LoginOptions(), progress=lambda text: print(f"... {text}",
                                                                      file=sys.stderr,
                                                                      flush=True))
    for outcome in report.outcomes:
        print(f"{outcome.result:<9} {outcome.message}")
    return report


# -- status ----------------------------------------------------------------------------------
def _chosen_folder(args: argparse.Namespace, paths):
    """--wrapper-folder, else [credhelper] wrapper_folder, else None (~/.local/bin)."""
    from tray_app.settings import load_settings

    return getattr(args, "wrapper_folder", None) or load_settings(paths)[0].wrapper_folder


def _status(paths, args: argparse.Namespace) -> int:
    from tray_app import credhelper
    from tray_app.render import table as render_rows
    from tray_app.sources.docker_config import ecr_login_profile

    path = credhelper.helper_path()
    print(f"docker-credential-ecr-login: {path}" if path
          else f"docker-credential-ecr-login: not installed - {credhelper.INSTALL_HINT}")
    config = credhelper.read_config(paths.docker_config)
    if config is not None and credhelper.is_ecr_login(config.creds_store):
        print(f"{config.path}: `credsStore` is {config.creds_store}: every registry uses it")
    taken = _snapshot()
    snapshot, folder = taken.snapshot, args.wrapper_folder or taken.settings.wrapper_folder
    managed = {r.host: r for r in snapshot.registries if r.managed}
    table = []
    for host, helper in credhelper.mapped_helpers(config).items():
        profile = ecr_login_profile(helper)
        row = managed.get(host)
        if profile is None:
            who, wrapper = "default (AWS_PROFILE, else default)", "-"
        else:
            who = profile
            found = credhelper.find_wrapper(profile, folder)
            wrapper = str(found) if found else "MISSING - run `credhelper enable` again"
        table.append([host, helper, who, wrapper, _credentials(row, snapshot)])
    for row in snapshot.registries:
        if row.source.startswith(DOCKER_SOURCES) and row.host not in managed:
            table.append([row.host, row.source, row.profile or "-", "-", "docker login"])
    if not table:
        print("No ECR registry in Docker's config.")
        return EXIT_OK
    headers = ["REGISTRY", "HELPER", "PROFILE", "WRAPPER", "CREDENTIALS"]
    print("\n".join(render_rows(headers, table)))
    return EXIT_OK


def _credentials(row: RegistryStatus | None, snapshot: Snapshot) -> str:
    """When the AWS credentials behind a managed host end, as far as local files tell."""
    if row is None or row.credentials_from is None:
        return "-"
    if row.credentials_expire_at is not None:
        from tray_app.timeutil import format_time_left, iso_utc

        left = format_time_left(row.credentials_seconds_left)
        return f"{row.credentials_from} ends {iso_utc(row.credentials_expire_at)} ({left})"
    session = snapshot.sso_for_profile(row.profile)
    if session is not None and session.refreshable:
        return f"{row.credentials_from} renews itself"
    return f"{row.credentials_from}: not signed in"
