"""Logging out of registries as `docker logout` / `podman logout` / `helm registry logout`
do, as one transaction.

1. prepare (:func:`plan_logout`): read every file a login may live in (Docker's
   config.json, Podman's auth files, Helm's registry config) and ask each credential
   store that holds a host for what it holds (``list``, then ``get``: the undo needs
   it). A file that cannot be read or is not a login file, a store that does not answer,
   or a host logged in nowhere stops it here: one line naming it, nothing written.
2. write (:func:`apply_logout`): erase through each credential store (``erase``, the server
   URL on stdin, as Docker does), then remove the host's ``auths`` keys, one atomic edit
   per file (every other key kept as it was, file mode kept). If a step fails, the steps
   already done are undone (the store gets its login back through ``store``, the file its
   keys), so a failed logout leaves every file and store as it was.

A host served by docker-credential-ecr-login has no stored login (the helper fetches a
token on each use): it is named, not touched (`credhelper disable` takes it back).

Front ends (`ecr-token-tray logout`, the tray's "Log out: anonymous pulls work" and the
automatic public.ecr.aws logout of the loop) call these.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tray_app.errors import SourceError, TokenError, TrayAppError
from tray_app.fileio import read_json_file
from tray_app.hosts import host_of, parse_registry
from tray_app.model import RegistryStatus, Snapshot
from tray_app.settings import Paths
from tray_app.sources.auth_file import auths_table
from tray_app.sources.docker_config import is_ecr_login, load_docker_config

log = logging.getLogger(__name__)

TOOLS = ("docker", "podman", "helm")


class LogoutError(TrayAppError):
    """Nothing was logged out: why, naming the file, store or host, and what to do."""


@dataclass(frozen=True)
class Place:
    """Where one host's login lives: a file's ``auths`` keys and/or a credential store."""

    tool: str  # "docker", "podman" or "helm"
    path: Path
    host: str
    keys: tuple[str, ...] = ()  # the file's ``auths`` keys for the host
    helper: str | None = None  # docker-credential-NAME that holds it
    urls: tuple[str, ...] = ()  # the server URLs that store holds for the host
    saved: dict = field(default_factory=dict, compare=False, repr=False)  # for the undo

    @property
    def label(self) -> str:
        through = f" and docker-credential-{self.helper}" if self.urls else ""
        return f"{self.tool} ({self.path}{through})"


@dataclass(frozen=True)
class LogoutPlan:
    places: tuple[Place, ...]
    skipped: tuple[str, ...] = ()  # lines about hosts left alone (ecr-login serves them)


@dataclass(frozen=True)
class LoggedOut:
    host: str
    tool: str
    message: str


def normalise_hosts(names: Iterable[str]) -> list[str]:
    """HOST arguments as hosts (``https://host/`` works); a name that is no ECR registry
    raises LogoutError before anything is read."""
    hosts = []
    for name in names:
        registry = parse_registry(name)
        if registry is None:
            raise LogoutError(f"{name}: not an Amazon ECR registry host; nothing logged out",
                              "give a host as `ecr-token-tray status` shows it, like"
                              " public.ecr.aws or 123456789012.dkr.ecr.eu-west-1.amazonaws.com")
        hosts.append(registry.host)
    return list(dict.fromkeys(hosts))


def plan_logout(paths: Paths, hosts: list[str],
                tools: dict[str, set[str]] | None = None) -> LogoutPlan:
    """Step 1 (see the module's docstring). ``tools``: per host, only these tools
    ("docker", "podman", "helm"); None: everywhere. Raises LogoutError, nothing written."""
    places: list[Place] = []
    skipped: list[str] = []
    for tool, path, creds_store in _files(paths):
        # A tool not asked about is not even read: its store may be broken (Docker
        # Desktop's helper without Desktop), which must not stop a logout elsewhere.
        wanted = [host for host in hosts if tools is None or tool in tools.get(host, ())]
        if wanted:
            places += _places(tool, path, wanted, skipped, creds_store)
    missing = [h for h in hosts if not any(p.host == h for p in places)]
    if missing:
        where = ", ".join(_searched(paths))
        managed = [line for line in skipped if line.split(":")[0] in missing]
        raise LogoutError(f"{', '.join(missing)}: not logged in"
                          f"{' there' if managed else ' (looked in ' + where + ')'};"
                          " nothing logged out",
                          "; ".join(managed) or "`ecr-token-tray status` lists the logins"
                          " there are")
    return LogoutPlan(tuple(places), tuple(skipped))


def _files(paths: Paths) -> list[tuple[str, Path, bool]]:
    """(tool, file, whether the tool honours ``credsStore``) for every file a login may
    live in, in the order the tools look."""
    helm = [("helm", paths.helm_registry_config, True)] if paths.helm_registry_config else []
    return [("docker", paths.docker_config, True),
            *(("podman", path, False) for path in paths.podman_auth_files), *helm]


def _searched(paths: Paths) -> list[str]:
    return [str(path) for _, path, _ in _files(paths)]


def _read(path: Path) -> dict | None:
    try:
        document = read_json_file(path)
        if document is None:
            return None
        auths_table(document, path)  # the same checks as the readers
    except (SourceError, TokenError) as error:
        raise LogoutError(f"{error.title}; nothing logged out", error.hint) from None
    return document


def _keys(document: dict, host: str) -> tuple[str, ...]:
    auths = document.get("auths") or {}
    return tuple(key for key in auths if host_of(key) == host)


def _places(tool: str, path: Path, hosts: list[str], skipped: list[str],
            creds_store: bool = True) -> list[Place]:
    """The hosts' logins in one file of Docker's format: its ``auths`` keys, and the store
    that holds each (``credHelpers[host]``, else ``credsStore`` where the tool has one;
    Podman's auth.json knows only ``credHelpers``)."""
    document = _read(path)
    if document is None:
        return []
    try:
        config = load_docker_config(path)
    except SourceError as error:  # `credsStore`/`credHelpers` of the wrong type
        raise LogoutError(f"{error.title}; nothing logged out", error.hint) from None
    places = []
    for host in hosts:
        keys = _keys(document, host)
        helper = config.cred_helpers.get(host) or (config.creds_store if creds_store else None)
        if is_ecr_login(helper):
            skipped.append(f"{host}: docker-credential-{helper} fetches its tokens (no stored"
                           f" login); `ecr-token-tray credhelper disable {host}` takes it back")
            continue
        urls: tuple[str, ...] = ()
        saved: dict = {}
        if helper:
            urls, saved = _store_holds(helper, host)
        if keys or urls:
            places.append(Place(tool, path, host, keys, helper if urls else None, urls, saved))
    return places


def _store_holds(helper: str, host: str) -> tuple[tuple[str, ...], dict]:
    """The URLs ``helper`` holds for ``host``, and their credentials (the undo's)."""
    from tray_app.sources.cred_helper import CredentialHelper

    store = CredentialHelper(helper)
    try:
        urls = tuple(url for url in store.list() if host_of(url) == host)
        saved = {url: store.get(url) for url in urls}
    except SourceError as error:
        raise LogoutError(f"{host}: {error.title}; nothing logged out", error.hint) from None
    return urls, saved


def apply_logout(plan: LogoutPlan) -> list[LoggedOut]:
    """Step 2 (see the module's docstring). Raises LogoutError after undoing what it did."""
    from tray_app.sources.cred_helper import CredentialHelper

    undo: list = []
    erased: set[tuple[str | None, str]] = set()  # Docker and Helm may share one store
    try:
        for place in plan.places:
            for url in place.urls:
                if (place.helper, url) in erased:
                    continue
                erased.add((place.helper, url))
                CredentialHelper(place.helper).erase(url)
                credential = place.saved.get(url)
                if credential is not None:
                    undo.append(lambda p=place, u=url, c=credential:
                                CredentialHelper(p.helper).store(u, c))
        by_file: dict[Path, list[Place]] = {}
        for place in plan.places:
            if place.keys:
                by_file.setdefault(place.path, []).append(place)
        for path, places in by_file.items():
            removed = _remove_keys(path, {k for p in places for k in p.keys}, places[0].host)
            undo.append(lambda path=path, removed=removed: _put_back(path, removed))
    except TrayAppError as error:
        _undo(undo)
        raise LogoutError(f"{error.title}; nothing logged out", error.hint) from None
    results = []
    for place in plan.places:
        log.info("logged out of %s: %s", place.host, place.label)
        results.append(LoggedOut(place.host, place.tool,
                                 f"{place.host}: logged out of {place.label}"))
    return results


def _remove_keys(path: Path, keys: set[str], about: str) -> dict:
    """Remove ``keys`` from the file's ``auths``; returns what was there (the undo's)."""
    from tray_app.renew.store import edit_docker_config

    removed: dict = {}
    if not path.exists():  # removed since it was read: nothing left to take out of it
        return removed

    def drop(document: dict) -> None:
        removed.clear()
        for key in keys:
            if key in document["auths"]:
                removed[key] = document["auths"].pop(key)

    edit_docker_config(path, drop, about)
    return removed


def _put_back(path: Path, removed: dict) -> None:
    from tray_app.renew.store import edit_docker_config

    def restore(document: dict) -> None:
        for key, value in removed.items():
            document["auths"].setdefault(key, value)

    if removed:
        edit_docker_config(path, restore, str(path))


def _undo(steps: list) -> None:
    for step in reversed(steps):
        try:
            step()
        except Exception:  # keep undoing the rest; the log says what could not be put back
            log.exception("could not undo one step of a failed logout")


def logout(paths: Paths, names: Iterable[str]) -> tuple[list[LoggedOut], tuple[str, ...]]:
    """``ecr-token-tray logout HOST...``: prepare, then write."""
    plan = plan_logout(paths, normalise_hosts(names))
    return apply_logout(plan), plan.skipped


# -- public.ecr.aws: an expired login breaks anonymous pulls ----------------------------------
def tool_of(row: RegistryStatus) -> str | None:
    """Which tool's files hold a row's login ("docker", "podman", "helm"); None: not one logout
    can remove (ecr-login, a Kubernetes secret)."""
    if row.kubernetes is not None or row.managed:
        return None
    if row.source in ("podman", "helm"):
        return row.source
    if row.source == "docker-config" or row.source.startswith("docker-credential-"):
        return "docker"
    return None


def stale_public_rows(snapshot: Snapshot | None) -> list[RegistryStatus]:
    """public.ecr.aws logins that are expired or end within the warning threshold: they
    make every pull fail (anonymous pulls would work), so logging out is the fix."""
    if snapshot is None:
        return []
    return [row for row in snapshot.registries
            if row.registry.public and row.state.due_for_renewal and tool_of(row)]


def logout_stale_public(paths: Paths, snapshot: Snapshot | None,
                        host: str | None = None, source: str | None = None
                        ) -> list[LoggedOut]:
    """`logout --expired-public`, the tray's "Log out: anonymous pulls work" and the
    automatic logout: every stale public login (only where it is stale; ``host`` and
    ``source``: only that row's). [] when there is none."""
    rows = [row for row in stale_public_rows(snapshot)
            if host in (None, row.host) and source in (None, row.source)]
    if not rows:
        return []
    tools: dict[str, set[str]] = {}
    for row in rows:
        tools.setdefault(row.host, set()).add(tool_of(row))
    return apply_logout(plan_logout(paths, list(tools), tools))
