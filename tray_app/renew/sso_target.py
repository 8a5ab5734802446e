"""Which SSO session a profile (or a session name) means, and how to sign in to it.

Reads ~/.aws/config only (through :mod:`tray_app.sources.aws_config`); no AWS calls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tray_app.errors import SourceError
from tray_app.renew.errors import RenewError
from tray_app.settings import Paths
from tray_app.sources.aws_config import AwsConfig, Profile, SsoSessionConfig, load_aws_config

Progress = Callable[[str], None]  # where each step of a sign-in says what it is doing


@dataclass(frozen=True)
class Target:
    session: SsoSessionConfig
    profile: str | None  # the profile holding the SSO settings (for `aws sso login --profile`)
    requested_profile: str | None  # what the caller asked for (for messages)

    @property
    def label(self) -> str:
        shown = self.requested_profile or self.profile
        return (f"session {self.session.name}" + (f" (profile {shown})" if shown else ""))


def load_config(paths: Paths) -> AwsConfig:
    try:
        return load_aws_config(paths.aws_config)
    except SourceError as error:
        raise RenewError(error.title, error.hint) from None


def target_for_profile(config: AwsConfig, name: str) -> Target | None:
    profile = config.profiles.get(name)
    if profile is None:
        return None  # not in the config file: static keys, env vars or instance role
    holder = sso_profile(config, profile)
    if holder is None:
        return None
    session = config.session_of(holder)
    if session is not None:
        return Target(session, holder.name, name)
    if holder.sso_session:
        problem = next((p for p in config.problems
                        if f"[sso-session {holder.sso_session}]" in p), None)
        if problem:
            raise RenewError(f"profile {name}: {problem.split(' - ')[0]}",
                             "add sso_start_url and sso_region, or run"
                             " `aws configure sso-session`")
        raise RenewError(f"profile {name} names sso_session {holder.sso_session!r}, which has"
                         f" no [sso-session {holder.sso_session}] section in {config.path}",
                         "add that section or run `aws configure sso`")
    raise RenewError(f"profile {name} has sso_start_url but no sso_region in {config.path}",
                     "add sso_region or run `aws configure sso`")


def sso_profile(config: AwsConfig, profile: Profile) -> Profile | None:
    """The profile in a source_profile chain that carries the SSO settings."""
    seen: set[str] = set()
    current: Profile | None = profile
    while current is not None and current.name not in seen:
        seen.add(current.name)
        if current.uses_sso:
            return current
        current = config.profiles.get(current.source_profile or "")
    return None


def target_for_session(config: AwsConfig, session_name: str) -> Target:
    session = config.sessions.get(session_name)
    if session is None:
        raise RenewError(f"no SSO session named {session_name!r} in {config.path}",
                         "run `aws configure sso` to set it up")
    users = [p for p in config.profiles.values()
             if (holder := sso_profile(config, p)) is not None
             and config.session_of(holder) == session and holder is p]
    # sso-session: `aws sso login --sso-session S`; legacy needs a profile that names it.
    profile = users[0].name if users and session.legacy else None
    if session.legacy and profile is None:
        raise RenewError(f"no profile uses SSO start URL {session.start_url}",
                         "run `aws configure sso`")
    return Target(session, profile, None)
