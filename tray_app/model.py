"""The records the core passes around. Frozen, GUI-free, boto3-free.

Records are named tuples made by ``@record`` (tray_app/record.py), not dataclasses:
``status`` builds them on every start, and ``dataclasses`` (which imports ``inspect``)
or ``typing.NamedTuple`` (which imports ``typing`` and compiles every annotation) would
cost it a large part of its run. Change one with ``record._replace(field=value)``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from tray_app.hosts import RegistryRef
from tray_app.record import record

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from tray_app.stores import StoreFacts, StoreProblem


class State(StrEnum):
    OK = "ok"
    WARNING = "warning"
    CRITICAL = "critical"
    EXPIRED = "expired"
    UNKNOWN = "unknown"
    MANAGED = "managed"

    @property
    def needs_attention(self) -> bool:
        """What "attention" means, everywhere: the login stopped working (expired) or is
        about to (critical). The native tray's NeedsAttention status, `status --check` and
        the prompt summary's count all ask this; warning alone is not attention."""
        return self in (State.CRITICAL, State.EXPIRED)

    @property
    def due_for_renewal(self) -> bool:
        """Warning, critical or expired: what `login --expiring`, "Refresh expiring" and
        automatic renewal pick up (renewing early is not the same as needing attention)."""
        return self in (State.WARNING, State.CRITICAL, State.EXPIRED)


@record
class KubeSecretRef:
    """Where a Kubernetes pull secret lives (rows with source ``kubernetes``)."""

    context: str
    namespace: str
    secret: str
    create_if_missing: bool = False  # `kube secret`: create it when it does not exist

    @property
    def label(self) -> str:
        return f"{self.context} {self.namespace}/{self.secret}"


@record
class FoundLogin:
    """A login a source found on disk, before expiry fallbacks and profile mapping."""

    registry: RegistryRef
    source: str  # "docker-config", "docker-credential-pass", "ecr-login", "podman"
    origin: str  # the file or helper it came from, for messages
    key: str  # the key as written there (``https://host/v1/``, ``host/ns/repo``...)
    expires_at: datetime | None = None
    expiry_from: str | None = None  # "token" or "ecr-login-cache"; None: snapshot falls back
    managed: bool = False  # amazon-ecr-credential-helper fetches tokens on demand
    detail: str = ""
    profile: str | None = None  # the profile an `ecr-login-<profile>` wrapper pins
    kubernetes: KubeSecretRef | None = None  # source "kubernetes": which secret


@record
class SourceProblem:
    """A file or helper that could not be read; ``message`` says what to do."""

    source: str
    message: str


@record
class RegistryStatus:
    """One login as the front ends show it: expiry, state, profile."""

    registry: RegistryRef
    source: str
    expires_at: datetime | None
    seconds_left: int | None
    state: State
    detail: str
    profile: str | None
    expiry_from: str | None = None  # "token", "app-state", "ecr-login-cache"
    # ecr-login rows: when the AWS credentials behind the helper (an SSO session) end
    credentials_expire_at: datetime | None = None
    credentials_seconds_left: int | None = None
    credentials_from: str | None = None  # "SSO session corp"
    kubernetes: KubeSecretRef | None = None  # source "kubernetes": which secret
    store_problem: StoreProblem | None = None  # its credential store cannot hold a login

    @property
    def host(self) -> str:
        return self.registry.host

    @property
    def identity(self) -> tuple:
        """One login: (host, store), plus the secret for a Kubernetes one."""
        if self.kubernetes is None:
            return (self.registry.host, self.source)
        return (self.registry.host, self.source, self.kubernetes)

    @property
    def where(self) -> str:
        """The store, for messages: ``docker-config``, ``kubernetes kind-dev default/s``."""
        return f"{self.source} {self.kubernetes.label}" if self.kubernetes else self.source

    @property
    def managed(self) -> bool:
        """Served by amazon-ecr-credential-helper: it fetches a token on every use."""
        return self.source == "ecr-login"

    @property
    def watched_seconds_left(self) -> int | None:
        """Time until this login stops working: the token's, or (managed rows) the
        credentials' behind the helper."""
        return self.credentials_seconds_left if self.managed else self.seconds_left

    @property
    def watched_expires_at(self) -> datetime | None:
        """When this login stops working (see ``watched_seconds_left``)."""
        return self.credentials_expire_at if self.managed else self.expires_at


@record
class SsoStatus:
    """One SSO session and the profiles that use it."""

    name: str  # the sso-session name, or the start URL for legacy profiles
    start_url: str
    region: str
    expires_at: datetime | None
    seconds_left: int | None
    state: State
    refreshable: bool
    profiles: tuple[str, ...]
    legacy: bool = False


@record
class Snapshot:
    """Everything found on the machine at one moment."""

    generated_at: datetime
    registries: tuple[RegistryStatus, ...]
    sso_sessions: tuple[SsoStatus, ...]
    errors: tuple[SourceProblem, ...] = ()
    notices: tuple[SourceProblem, ...] = ()  # quiet facts (a stopped cluster); not errors
    stores: StoreFacts | None = None  # Docker's credential stores, for new logins' checks

    def soonest(self) -> RegistryStatus | None:
        """The watched login that stops working first (managed rows: their credentials)."""
        timed = [r for r in self.registries
                 if r.watched_seconds_left is not None and r.state != State.MANAGED]
        return min(timed, key=lambda r: r.watched_seconds_left or 0, default=None)

    def sso_for_profile(self, profile: str | None) -> SsoStatus | None:
        if profile is None:
            return None
        return next((s for s in self.sso_sessions if profile in s.profiles), None)
