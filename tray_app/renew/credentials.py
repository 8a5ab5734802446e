"""Has a profile any AWS credentials at all? Local files and the environment only.

The tray asks before an automatic renewal: a profile with nothing configured would only
fail ("no AWS credentials"), so it is not renewed automatically and its alert says what to
run instead. Lenient on purpose: anything that might give credentials (keys, a process,
a role, SSO, container or web-identity variables, an EC2 instance) counts, and an unreadable
file is left for the renewal itself to report.
"""

from __future__ import annotations

import configparser
import os
from pathlib import Path

from tray_app.settings import user_home

PROFILE_KEYS = ("aws_access_key_id", "credential_process", "role_arn", "credential_source",
                "web_identity_token_file", "sso_session", "sso_start_url")
ENVIRONMENT = ("AWS_ACCESS_KEY_ID", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
               "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE")
EC2_VENDOR_FILE = Path("/sys/devices/virtual/dmi/id/sys_vendor")


def profile_name(profile: str | None) -> str:
    return (profile or os.environ.get("AWS_PROFILE") or os.environ.get("AWS_DEFAULT_PROFILE")
            or "default")


def credentials_problem(profile: str | None, home: Path | None = None) -> str | None:
    """None when the profile may have credentials; else what to run, in one line."""
    if any(os.environ.get(name) for name in ENVIRONMENT):
        return None
    name = profile_name(profile)
    home = home or user_home(os.environ)
    credentials = Path(os.environ.get("AWS_SHARED_CREDENTIALS_FILE")
                       or home / ".aws" / "credentials").expanduser()
    config = Path(os.environ.get("AWS_CONFIG_FILE") or home / ".aws" / "config").expanduser()
    if _any_key(credentials, {name}, ("aws_access_key_id",)) is not False:
        return None
    config_sections = {f"profile {name}"} | ({"default"} if name == "default" else set())
    if _any_key(config, config_sections, PROFILE_KEYS) is not False:
        return None
    if _on_ec2():
        return None  # an instance role may serve it; the renewal will tell
    return (f"no AWS credentials for profile {name}: run `aws configure sso --profile {name}`"
            f" (or `aws configure --profile {name}` for access keys)")


def _any_key(path: Path, sections: set[str], keys: tuple[str, ...]) -> bool | None:
    """True/False: a section has one of ``keys``; None: the file cannot be read."""
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    try:
        with path.open(encoding="utf-8") as handle:
            parser.read_file(handle)
    except FileNotFoundError:
        return False
    except (OSError, UnicodeDecodeError, configparser.Error):
        return None
    for section in parser.sections():
        if " ".join(section.split()) in sections and any(
                parser.get(section, key, fallback="").strip() for key in keys):
            return True
    return False


def _on_ec2() -> bool:
    if os.environ.get("AWS_EC2_METADATA_DISABLED", "").lower() == "true":
        return False
    try:
        return EC2_VENDOR_FILE.read_text().strip() == "Amazon EC2"
    except OSError:
        return False
