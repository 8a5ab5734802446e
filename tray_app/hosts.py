"""Recognise Amazon ECR registry hosts in every form a config key can take."""

from __future__ import annotations

import re

from tray_app.record import record

# The pattern amazon-ecr-credential-helper (v0.12) uses, anchored on the bare host.
_PRIVATE = re.compile(
    r"^(?P<account>\d{12})\.dkr(?P<separator>[.-])ecr(?P<fips>-fips)?"
    r"\.(?P<region>[a-zA-Z0-9][a-zA-Z0-9-_]*)\."
    r"(?P<domain>amazonaws\.(?:com(?:\.cn)?|eu)|on\.(?:aws|amazonwebservices\.com\.cn)"
    r"|sc2s\.sgov\.gov|c2s\.ic\.gov|cloud\.adc-e\.uk|csp\.hci\.ic\.gov)",
    re.ASCII,
)
_PUBLIC_HOSTS = frozenset({"public.ecr.aws", "ecr-public.aws.com"})

_PARTITION_BY_DOMAIN = {
    "amazonaws.com": "aws",
    "on.aws": "aws",
    "amazonaws.com.cn": "aws-cn",
    "on.amazonwebservices.com.cn": "aws-cn",
    "amazonaws.eu": "aws-eusc",
    "c2s.ic.gov": "aws-iso",
    "sc2s.sgov.gov": "aws-iso-b",
    "cloud.adc-e.uk": "aws-iso-e",
    "csp.hci.ic.gov": "aws-iso-f",
}


@record
class RegistryRef:
    """An ECR registry recognised from a host name or config key."""

    host: str
    account_id: str | None
    region: str
    partition: str
    public: bool = False
    fips: bool = False
    dual_stack: bool = False

    @property
    def label(self) -> str:
        """Short human name: ``222222222222 eu-central-1`` or ``public.ecr.aws``."""
        if self.public:
            return self.host
        extras = [word for word, on in (("fips", self.fips), ("dual-stack", self.dual_stack)) if on]
        return " ".join([self.account_id or "?", self.region, *extras])

    @property
    def url(self) -> str:
        return f"https://{self.host}"


def host_of(key: str) -> str:
    """Reduce a config key to its host, as Docker's ConvertToHostname does.

    ``https://host/v1/`` -> ``host``; Podman's ``host/namespace/repo`` -> ``host``.
    """
    text = key.strip()
    for scheme in ("https://", "http://"):
        if text.lower().startswith(scheme):
            text = text[len(scheme):]
            break
    return text.split("/", 1)[0].lower()


def parse_registry(key: object) -> RegistryRef | None:
    """The ECR registry a config key names, or None when it is not ECR."""
    if not isinstance(key, str):
        return None
    host = host_of(key)
    if host in _PUBLIC_HOSTS:
        return RegistryRef(host=host, account_id=None, region="us-east-1", partition="aws",
                           public=True, dual_stack=host == "ecr-public.aws.com")
    match = _PRIVATE.fullmatch(host)
    if match is None:
        return None
    region = match["region"]
    partition = _PARTITION_BY_DOMAIN[match["domain"]]
    if partition == "aws" and region.startswith("us-gov-"):
        partition = "aws-us-gov"
    return RegistryRef(
        host=host,
        account_id=match["account"],
        region=region,
        partition=partition,
        fips=bool(match["fips"]),
        dual_stack=match["separator"] == "-",
    )

