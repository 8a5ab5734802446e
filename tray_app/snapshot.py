"""Gather every source into one immutable Snapshot: expiry, state and profile per login.

Local files only: nothing here talks to AWS, so it is cheap and safe to repeat.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

from tray_app.errors import SourceError, TrayAppError
from tray_app.hosts import RegistryRef
from tray_app.model import FoundLogin, RegistryStatus, Snapshot, SourceProblem, SsoStatus, State
from tray_app.settings import Paths, Settings, load_settings
from tray_app.sources import Findings
from tray_app.sources.auth_file import is_bare_key
from tray_app.sources.aws_config import (
    AwsConfig,
    Profile,
    SsoSessionConfig,
    load_aws_config,
    read_sso_token,
)
from tray_app.sources.docker_config import (
    ECR_LOGIN,
    DockerConfig,
    file_logins,
    helper_names,
    is_ecr_login,
    load_docker_config,
    missing_helpers,
)
from tray_app.sources.ecr_login import managed_logins, read_cache_expiries
from tray_app.sources.podman import podman_logins
from tray_app.statefile import logins_path, read_recorded_logins
from tray_app.timeutil import format_time_left, iso_utc, utc_now

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (2 ms of `status`)
if TYPE_CHECKING:
    from typing import Protocol

    from tray_app.stores import StoreFacts

    class ClusterSource(Protocol):
        """Pull secrets of Kubernetes clusters (tray_app.sources.kubernetes.ClusterScan)."""

        def findings(self, files: Sequence[Path], kube_contexts: Iterable[str]
                     ) -> Findings: ...


def take_snapshot(paths: Paths, settings: Settings, now: datetime | None = None,
                  clusters: ClusterSource | None = None, platform: str | None = None
                  ) -> Snapshot:
    """``clusters``: also list Kubernetes pull secrets (only when a kubeconfig exists).
    ``platform``: the OS whose credential stores to judge (default: this one's)."""
    now = now or utc_now()
    found = Findings()
    ecr_cache = _guarded(found, paths.ecr_cache, lambda: _ecr_cache(paths), {})
    recorded = _guarded(found, logins_path(paths.state_dir),
                        lambda: read_recorded_logins(paths.state_dir), {})
    docker = _guarded(found, paths.docker_config, lambda: load_docker_config(paths.docker_config))
    if docker is not None:
        found.extend(file_logins(docker))
        if _asks_credential_helpers(docker):
            # imported only then: subprocess and threads cost `status` start-up time
            from tray_app.sources.cred_helper import helper_logins

            found.extend(helper_logins(docker))
        found.extend(managed_logins(docker, ecr_cache))
    found.extend(podman_logins(paths.podman_auth_files))
    helm = paths.helm_registry_config
    if helm is not None and os.path.lexists(helm):  # no Helm file: one stat, no import
        from tray_app.sources.helm import helm_logins

        found.extend(helm_logins(helm, ecr_cache))
    if clusters is not None and settings.kubernetes and has_kubeconfig(paths, settings):
        found.extend(clusters.findings(paths.kubeconfigs, settings.kube_contexts))
    aws = _guarded(found, paths.aws_config, lambda: load_aws_config(paths.aws_config))
    aws = aws or AwsConfig(paths.aws_config, {}, {})
    for message in aws.problems:
        found.problem(paths.aws_config, message)

    expiry_fallbacks = {host: r.expires_at for host, r in recorded.items()}
    sessions = _sso_statuses(paths, aws, settings, now, found)
    rows = [
        _status(login, expiry_fallbacks, ecr_cache, settings, aws, now)
        for login in _one_per_host_and_source(found.logins)
        if login.registry.host not in settings.ignored_hosts
    ]
    rows = [_with_credentials(row, sessions, settings) if row.managed else row for row in rows]
    stores = None
    if docker is not None and (docker.creds_store or docker.cred_helpers):
        stores = _store_facts(docker, paths, ecr_cache, found, platform)
        rows = _with_store_problems(rows, stores, now)
    rows.sort(key=lambda r: (r.registry.public, r.registry.account_id or "", r.registry.region,
                             r.host, r.where))
    return Snapshot(now, tuple(rows), tuple(sessions), tuple(_unique(found.problems)),
                    tuple(_unique(found.notices)), stores)


def _store_facts(docker: DockerConfig, paths: Paths, ecr_cache: dict[str, datetime],
                 found: Findings, platform: str | None) -> StoreFacts:
    """What the sources learnt about the stores config.json names (imported only then)."""
    from tray_app.stores import StoreFacts

    platform = platform or sys.platform
    missing = missing_helpers(docker, platform=platform)
    return StoreFacts(
        config_path=str(docker.path), creds_store=docker.creds_store,
        cred_helpers=docker.cred_helpers, missing=missing,
        failing=dict(found.broken_helpers), cache_path=str(paths.ecr_cache),
        cache_expiries=ecr_cache, platform=platform,
        ecr_login_installed=_ecr_login_on_path(docker, missing, platform))


def _ecr_login_on_path(docker: DockerConfig, missing: frozenset[str], platform: str) -> bool:
    """Is docker-credential-ecr-login installed? Known from ``missing`` when the config
    names it; else one more PATH look-up."""
    if ECR_LOGIN in helper_names(docker):
        return ECR_LOGIN not in missing
    probe = docker._replace(creds_store=ECR_LOGIN, cred_helpers={})
    return ECR_LOGIN not in missing_helpers(probe, platform=platform)


def _with_store_problems(rows: list[RegistryStatus], stores: StoreFacts, now: datetime
                         ) -> list[RegistryStatus]:
    from tray_app.stores import needs_store_check, store_problem

    return [row._replace(store_problem=store_problem(row.host, stores, now))
            if needs_store_check(row.source) and row.kubernetes is None else row
            for row in rows]


def has_kubeconfig(paths: Paths, settings: Settings | None = None) -> bool:
    """Is there a kubeconfig that may name a local (or listed) cluster?

    No file: one stat per KUBECONFIG entry, all `status` pays then. A file whose text has
    none of the words a local context needs (``kind-``, ``minikube``, ``127.``...) nor a
    listed context name cannot make one: skipped without importing PyYAML or kubectl code.
    """
    present = [path for path in paths.kubeconfigs if os.path.isfile(path)]
    if not present:
        return False
    from tray_app.sources.kubeconfig import may_name_local_context

    listed = settings.kube_contexts if settings else ()
    return any(may_name_local_context(path, listed) for path in present)


def _ecr_cache(paths: Paths) -> dict:
    if os.environ.get("AWS_ECR_DISABLE_CACHE"):
        return {}
    return read_cache_expiries(paths.ecr_cache)


def _guarded(found: Findings, where, read, default=None):
    """Run one reader; its SourceError becomes a problem and the rest goes on."""
    try:
        return read()
    except SourceError as error:
        found.problem(where, str(error))
        return default


def _one_per_host_and_source(logins: Iterable[FoundLogin]) -> list[FoundLogin]:
    """Keep one login per (host, source, secret): the bare-host key first, then the soonest
    expiry."""
    best: dict[tuple, FoundLogin] = {}
    for login in logins:
        slot = (login.registry.host, login.source, login.kubernetes)
        if slot not in best or _preference(login) < _preference(best[slot]):
            best[slot] = login
    return list(best.values())


def _preference(login: FoundLogin) -> tuple:
    expires = login.expires_at.timestamp() if login.expires_at else float("inf")
    return (not is_bare_key(login.key), expires)


def _status(login: FoundLogin, recorded: dict[str, datetime], ecr_cache: dict[str, datetime],
            settings: Settings, aws: AwsConfig, now: datetime) -> RegistryStatus:
    expires, expiry_from, detail = login.expires_at, login.expiry_from, login.detail
    if expires is None and login.kubernetes is not None and not detail:
        detail = ("the token in this secret carries no expiry - run"
                  f" `ecr-token-tray login {login.registry.host}` to renew it")
    if expires is None and not login.managed and not detail:
        expires, expiry_from = _fallback_expiry(login.registry.host, recorded, ecr_cache)
        if expires is None:
            detail = ("the token carries no expiry and this app has no record of it - run"
                      f" `ecr-token-tray login {login.registry.host}` to track it")
    seconds_left = None if expires is None else int((expires - now).total_seconds())
    state = State.MANAGED if login.managed else classify(seconds_left, settings)
    profile = (_helper_profile(login, aws) if login.managed
               else profile_for(login.registry, settings, aws))
    if login.registry.public and state.due_for_renewal and login.kubernetes is None:
        notice = public_logout_notice(login.registry.host, state)
        detail = f"{detail}; {notice}" if detail else notice
    return RegistryStatus(
        registry=login.registry,
        source=login.source,
        expires_at=expires,
        seconds_left=seconds_left,
        state=state,
        detail=detail,
        profile=profile,
        expiry_from=expiry_from,
        kubernetes=login.kubernetes,
    )


def public_logout_notice(host: str, state: State) -> str:
    """ECR Public needs no login to pull: an expired one makes every pull fail (403), so
    the fix for someone who never pushes there is to log out, not to renew."""
    when = "pulls fail with it" if state == State.EXPIRED else "pulls fail once it expires"
    return f"{when}; anonymous pulls work: `ecr-token-tray logout {host}`"


def _helper_profile(login: FoundLogin, aws: AwsConfig) -> str | None:
    """The profile docker-credential-ecr-login will use: the wrapper's, else the default
    chain's (``AWS_PROFILE``, then ``default``; None: keys from the environment)."""
    if login.profile:
        return login.profile
    named = os.environ.get("AWS_PROFILE")
    if named:
        return named
    return "default" if "default" in aws.profiles else None


def _with_credentials(row: RegistryStatus, sessions: list[SsoStatus], settings: Settings
                      ) -> RegistryStatus:
    """A managed row keeps working as long as the SSO session behind its profile: when
    that session can only be renewed in a browser, its end is the row's end."""
    session = next((s for s in sessions if row.profile in s.profiles), None)
    if session is None:
        return row
    name = f"SSO session {session.name}"
    using = f"docker-credential-ecr-login fetches a token on each use with profile {row.profile}"
    if session.expires_at is None:
        return row._replace(credentials_from=name,
                       detail=f"{using}; {name} is not signed in - sign in")
    if session.refreshable:
        return row._replace(credentials_from=name,
                       detail=f"{using}; {name} renews itself (refresh token)")
    seconds_left = session.seconds_left
    state = classify(seconds_left, settings)
    left = format_time_left(seconds_left)
    ends = f"ended {iso_utc(session.expires_at)} ({left})" if (seconds_left or 0) <= 0 \
        else f"ends {iso_utc(session.expires_at)} (in {left})"
    return row._replace(
        state=state if state.due_for_renewal else State.MANAGED,
        credentials_expire_at=session.expires_at,
        credentials_seconds_left=seconds_left,
        credentials_from=name,
        detail=f"{using}; {name} {ends}",
    )


def _fallback_expiry(host: str, recorded: dict[str, datetime], ecr_cache: dict[str, datetime]
                     ) -> tuple[datetime | None, str | None]:
    if host in recorded:
        return recorded[host], "app-state"
    if host in ecr_cache:
        return ecr_cache[host], "ecr-login-cache"
    return None, None


def classify(seconds_left: int | None, settings: Settings) -> State:
    if seconds_left is None:
        return State.UNKNOWN
    if seconds_left <= 0:
        return State.EXPIRED
    if seconds_left <= settings.critical_minutes * 60:
        return State.CRITICAL
    if seconds_left <= settings.warning_minutes * 60:
        return State.WARNING
    return State.OK


def profile_for(registry: RegistryRef, settings: Settings, aws: AwsConfig) -> str | None:
    """Explicit mapping, else a profile for the registry's account (same region preferred)."""
    if registry.host in settings.profile_for_host:
        return settings.profile_for_host[registry.host]
    if registry.account_id is None:
        return None
    candidates = [p for p in aws.profiles.values() if p.account_id == registry.account_id]
    if not candidates:
        return None
    return min(candidates, key=lambda p: _profile_rank(p, registry)).name


def configured_profile(registry: RegistryRef, paths: Paths) -> str | None:
    """``profile_for`` from the files alone, for a registry no row names yet; a file that
    cannot be read counts as empty (``status`` reports it)."""
    settings, _ = load_settings(paths)
    try:
        aws = load_aws_config(paths.aws_config)
    except TrayAppError:
        aws = AwsConfig(paths.aws_config, {}, {})
    return profile_for(registry, settings, aws)


def _profile_rank(profile: Profile, registry: RegistryRef) -> tuple:
    return (profile.region != registry.region, not profile.uses_sso, profile.name)


def _sso_statuses(paths: Paths, aws: AwsConfig, settings: Settings, now: datetime,
                  found: Findings) -> list[SsoStatus]:
    statuses = []
    for session in sorted(aws.sessions.values(), key=lambda s: s.name):
        profiles = tuple(sorted(p.name for p in aws.profiles.values()
                                if aws.session_of(p) is session))
        token = _guarded(found, paths.sso_cache_dir,
                         lambda s=session: read_sso_token(paths.sso_cache_dir, s))
        expires = token.expires_at if token else None
        if token is not None and expires is None:
            found.problem(token.path, f"{token.path}: `expiresAt` is missing or not a time -"
                                      f" run `{sign_in_command(session, profiles)}`"
                                      " to rewrite it")
        seconds_left = None if expires is None else int((expires - now).total_seconds())
        statuses.append(SsoStatus(
            name=session.name,
            start_url=session.start_url,
            region=session.region,
            expires_at=expires,
            seconds_left=seconds_left,
            state=classify(seconds_left, settings),
            refreshable=bool(token and not session.legacy and token.refreshable(now)),
            profiles=profiles,
            legacy=session.legacy,
        ))
    return statuses


def sign_in_command(session: SsoSessionConfig, profiles: tuple[str, ...] = ()) -> str:
    """What the user runs to sign in again (legacy sessions are reached through a profile)."""
    if session.legacy:
        return f"aws sso login --profile {profiles[0] if profiles else '<profile>'}"
    return f"aws sso login --sso-session {session.name}"


def _unique(problems: list[SourceProblem]) -> list[SourceProblem]:
    return list(dict.fromkeys(problems))


def _asks_credential_helpers(docker: DockerConfig) -> bool:
    """Does reading this config mean running a credential helper (ecr-login aside)?"""
    return any(name and not is_ecr_login(name)
               for name in (docker.creds_store, *docker.cred_helpers.values()))
