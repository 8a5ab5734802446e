"""Which token serves which login: snapshot rows grouped by (profile, service, region).

One ``GetAuthorizationToken`` answer is valid for every registry of that region the
principal may use, so each group costs one API call however many accounts it covers.
ECR Public has its own service and always lives in us-east-1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tray_app.model import RegistryStatus

PUBLIC_REGION = "us-east-1"


@dataclass(frozen=True)
class TokenGroup:
    profile: str | None  # None: boto3's default credential chain
    service: str  # "ecr" or "ecr-public"
    region: str
    rows: tuple[RegistryStatus, ...]

    @property
    def key(self) -> tuple[str | None, str, str]:
        return (self.profile, self.service, self.region)


def profile_label(profile: str | None) -> str:
    return f"profile {profile}" if profile else "the default profile"


def group_rows(rows: Sequence[RegistryStatus], profile_override: str | None = None
               ) -> list[TokenGroup]:
    """Groups in first-seen order; ``profile_override`` (``--profile``) wins over the row's."""
    grouped: dict[tuple[str | None, str, str], list[RegistryStatus]] = {}
    for row in rows:
        profile = profile_override or row.profile
        if row.registry.public:
            key = (profile, "ecr-public", PUBLIC_REGION)
        else:
            key = (profile, "ecr", row.registry.region)
        grouped.setdefault(key, []).append(row)
    return [TokenGroup(profile, service, region, tuple(members))
            for (profile, service, region), members in grouped.items()]
