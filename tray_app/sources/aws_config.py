"""``~/.aws/config`` profiles and sso-sessions, and the SSO token cache behind them."""

from __future__ import annotations

import configparser
import re
from datetime import UTC, datetime
from pathlib import Path

from tray_app.errors import SourceError
from tray_app.fileio import read_json_file
from tray_app.record import record
from tray_app.timeutil import from_epoch, parse_time

_EPOCH = datetime.fromtimestamp(0, UTC)
_ACCOUNT_ID = re.compile(r"\d{12}", re.ASCII)
_ROLE_ARN_ACCOUNT = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):role/", re.ASCII)


@record
class Profile:
    """One profile of ~/.aws/config."""

    name: str
    region: str | None = None
    sso_session: str | None = None
    sso_start_url: str | None = None  # legacy SSO profiles carry these themselves
    sso_region: str | None = None
    sso_account_id: str | None = None
    sso_role_name: str | None = None
    role_arn: str | None = None
    source_profile: str | None = None

    @property
    def account_id(self) -> str | None:
        if self.sso_account_id:  # a continuation line can make it "1234...\nmore": not an id
            return self.sso_account_id if _ACCOUNT_ID.fullmatch(self.sso_account_id) else None
        match = _ROLE_ARN_ACCOUNT.match(self.role_arn or "")
        return match.group(1) if match else None

    @property
    def uses_sso(self) -> bool:
        return bool(self.sso_session or self.sso_start_url)


@record
class SsoSessionConfig:
    """One [sso-session] (or a legacy profile's SSO settings)."""

    name: str
    start_url: str
    region: str
    legacy: bool = False  # a profile with its own sso_start_url: cannot refresh silently

    @property
    def cache_key(self) -> str:
        """The AWS CLI's cache file stem: sha1 of the session name, or of the URL (legacy)."""
        return sha1_hex(self.start_url if self.legacy else self.name)


@record
class AwsConfig:
    """The parsed ~/.aws/config: profiles and SSO sessions."""

    path: Path
    profiles: dict[str, Profile]
    sessions: dict[str, SsoSessionConfig]  # by name; legacy ones by start URL
    problems: tuple[str, ...] = ()

    def session_of(self, profile: Profile) -> SsoSessionConfig | None:
        """The SSO session behind a profile, following ``source_profile`` chains."""
        seen: set[str] = set()
        current: Profile | None = profile
        while current is not None and current.name not in seen:
            seen.add(current.name)  # a chain that loops back (a -> b -> a) ends here
            if current.sso_session:
                return self.sessions.get(current.sso_session)
            if current.sso_start_url:
                return self.sessions.get(current.sso_start_url)
            current = self.profiles.get(current.source_profile or "")
        return None


def sha1_hex(text: str) -> str:
    """SHA-1 from CPython's built-in module when it has one: hashlib would first load
    OpenSSL (about 2.5 ms of every `status`) for this one short digest."""
    try:
        from _sha1 import sha1
    except ImportError:  # a Python built without it
        from hashlib import sha1
    return sha1(text.encode()).hexdigest()


def load_aws_config(path: Path) -> AwsConfig:
    """Parse the config file. Unreadable or invalid INI raises SourceError naming it."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return AwsConfig(path, {}, {})
    except UnicodeDecodeError:
        raise SourceError(f"{path}: cannot read it (not UTF-8 text)",
                          "save it again as UTF-8") from None
    except OSError as error:
        raise SourceError(f"{path}: cannot read it ({error.strerror})",
                          "fix the file's permissions, or check the path") from None
    duplicate = _duplicate_in(text, path)
    parser = _parser(strict=False)
    try:
        parser.read_string(text, source=str(path))
    except configparser.Error as error:
        first = str(error).splitlines()[0]
        raise SourceError(f"{path}: not a valid INI file ({first})",
                          "fix it, or run `aws configure sso` to rewrite it") from None
    config = _interpret(path, parser)
    if duplicate:
        return AwsConfig(path, config.profiles, config.sessions, (duplicate, *config.problems))
    return config


def _parser(strict: bool) -> configparser.RawConfigParser:
    return configparser.RawConfigParser(strict=strict, default_section="\0none",
                                        interpolation=None)


def _duplicate_in(text: str, path: Path) -> str | None:
    """The AWS CLI refuses a file with a section or key twice; we read it anyway, and say so."""
    try:
        _parser(strict=True).read_string(text, source=str(path))
    except (configparser.DuplicateSectionError, configparser.DuplicateOptionError) as error:
        duplicate_section = isinstance(error, configparser.DuplicateSectionError)
        what = (f"section [{error.section}]" if duplicate_section
                else f"key {error.option!r} in [{error.section}]")
        return (f"{path}: {what} appears twice (line {error.lineno}); the AWS CLI refuses"
                " such a file - merge the duplicates")
    except configparser.Error:
        return None  # the lenient parse reports real syntax errors
    return None


def _interpret(path: Path, parser: configparser.RawConfigParser) -> AwsConfig:
    profiles: dict[str, Profile] = {}
    sessions: dict[str, SsoSessionConfig] = {}
    problems: list[str] = []
    for section in parser.sections():
        values = dict(parser.items(section))
        kind, _, name = section.strip().partition(" ")
        name = name.strip()  # `[profile  dev]` is profile "dev" for the AWS CLI too
        if section.strip() == "default":
            kind, name = "profile", "default"
        if kind == "sso-session" and name:
            start_url, region = values.get("sso_start_url"), values.get("sso_region")
            if start_url and region:
                sessions[name] = SsoSessionConfig(name, start_url, region)
            else:
                problems.append(f"{path}: [sso-session {name}] lacks sso_start_url or sso_region"
                                " - run `aws configure sso-session`")
        elif kind == "profile" and name:
            profiles[name] = _profile(name, values)
    for profile in profiles.values():
        if profile.sso_start_url and not profile.sso_session and profile.sso_region:
            sessions.setdefault(profile.sso_start_url, SsoSessionConfig(
                profile.sso_start_url, profile.sso_start_url, profile.sso_region, legacy=True))
        if profile.sso_session and profile.sso_session not in sessions:
            problems.append(f"{path}: profile {profile.name} names sso_session"
                            f" {profile.sso_session!r}, which has no [sso-session] section"
                            " - add it or run `aws configure sso`")
    return AwsConfig(path, profiles, sessions, tuple(problems))


def _profile(name: str, values: dict[str, str]) -> Profile:
    return Profile(
        name=name,
        region=values.get("region"),
        sso_session=values.get("sso_session"),
        sso_start_url=values.get("sso_start_url"),
        sso_region=values.get("sso_region"),
        sso_account_id=values.get("sso_account_id"),
        sso_role_name=values.get("sso_role_name"),
        role_arn=values.get("role_arn"),
        source_profile=values.get("source_profile"),
    )


@record
class SsoToken:
    """A cached SSO token's expiry (never the token itself)."""

    path: Path
    expires_at: datetime | None
    has_refresh_token: bool
    registration_expires_at: datetime | None
    has_client: bool = True  # clientId and clientSecret: a refresh needs them too

    def refreshable(self, now: datetime) -> bool:
        registration_valid = (self.registration_expires_at is not None
                              and self.registration_expires_at > now)
        return self.has_refresh_token and self.has_client and registration_valid


def read_sso_token(cache_dir: Path, session: SsoSessionConfig) -> SsoToken | None:
    """The cached token for a session (by the CLI's key rule, else by start URL), or None."""
    keyed = cache_dir / f"{session.cache_key}.json"
    document = read_json_file(keyed)
    if _is_token(document):
        return _token(keyed, document)
    return _scan_for_start_url(cache_dir, session.start_url)


def _scan_for_start_url(cache_dir: Path, start_url: str) -> SsoToken | None:
    best = None
    for path in sorted(cache_dir.glob("*.json")) if cache_dir.is_dir() else []:
        try:
            document = read_json_file(path)
        except SourceError:
            continue  # someone else's odd file: the keyed lookup already failed
        if _is_token(document) and document.get("startUrl") == start_url:
            token = _token(path, document)
            if best is None or (token.expires_at or _EPOCH) > (best.expires_at or _EPOCH):
                best = token
    return best


def _is_token(document: object) -> bool:
    # Client-registration files live in the same folder; they carry no accessToken.
    return isinstance(document, dict) and isinstance(document.get("accessToken"), str)


def _token(path: Path, document: dict) -> SsoToken:
    return SsoToken(
        path=path,
        expires_at=_lenient_time(document.get("expiresAt")),
        has_refresh_token=_is_text(document.get("refreshToken")),
        registration_expires_at=_lenient_time(document.get("registrationExpiresAt")),
        has_client=_is_text(document.get("clientId")) and _is_text(document.get("clientSecret")),
    )


def _is_text(value: object) -> bool:
    return isinstance(value, str) and bool(value)


def _lenient_time(value: object) -> datetime | None:
    """ISO-8601 in its many spellings; epoch seconds from tools that write numbers."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return from_epoch(value)
    return parse_time(value) if isinstance(value, str) else None
