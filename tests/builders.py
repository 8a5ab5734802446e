"""Build realistic HOME trees at test time: real file formats, expiries relative to now."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tray_app.tokens import make_authorization_token, make_ecr_password

REPO_ROOT = Path(__file__).resolve().parent.parent
SSO_ACCESS_TOKEN = "aoaAAAAAGsso-access-token-secret"
SSO_REFRESH_TOKEN = "aorAAAAAGsso-refresh-token-secret"

# A typical ~/.aws/config: an sso-session profile (dev, and dev-admin on the same session),
# a legacy SSO profile (ops) and a plain key profile (static).
SSO_START_URL = "https://corp.awsapps.com/start"
LEGACY_START_URL = "https://legacy.awsapps.com/start"
SSO_PROFILES_CONFIG = f"""\
[profile dev]
sso_session = corp
sso_account_id = 222222222222
sso_role_name = Developer
region = eu-central-1

[profile dev-admin]
sso_session = corp
sso_account_id = 222222222222
sso_role_name = Admin
region = eu-central-1

[sso-session corp]
sso_start_url = {SSO_START_URL}
sso_region = eu-west-1
sso_registration_scopes = sso:account:access

[profile ops]
sso_start_url = {LEGACY_START_URL}
sso_region = us-east-1
sso_account_id = 333333333333
sso_role_name = Operator
region = us-west-2

[profile static]
region = us-east-1
"""

# Only the dev profile and its session (no registration scopes): one SSO login, one account.
SSO_DEV_CONFIG = f"""\
[profile dev]
sso_session = corp
sso_account_id = 222222222222
sso_role_name = Developer
region = eu-central-1

[sso-session corp]
sso_start_url = {SSO_START_URL}
sso_region = eu-west-1
"""


def in_(minutes: float) -> datetime:
    """A moment ``minutes`` from now (negative: in the past), whole seconds, UTC."""
    return (datetime.now(UTC) + timedelta(minutes=minutes)).replace(microsecond=0)


def ecr_password(expires_in_minutes: float | None, payload: str = "cGF5bG9hZA==") -> str:
    """A password in ECR's real format; ``None`` gives an old-style token with no expiry."""
    if expires_in_minutes is None:
        import base64
        return base64.b64encode(json.dumps({"payload": payload, "version": "2"}).encode()).decode()
    return make_ecr_password(in_(expires_in_minutes), payload)


def docker_auth(expires_in_minutes: float | None, payload: str = "cGF5bG9hZA==") -> str:
    return make_authorization_token(ecr_password(expires_in_minutes, payload))


def host(account: str = "111111111111", region: str = "eu-central-1") -> str:
    return f"{account}.dkr.ecr.{region}.amazonaws.com"


# The registries of the dev and ops profiles' accounts.
DEV_REGISTRY = host("222222222222", "eu-central-1")
OPS_REGISTRY = host("333333333333", "us-west-2")


@dataclass
class FakeHome:
    """A temporary HOME with every place credentials live, plus the env pointing at it."""

    root: Path
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def create(cls, root: Path) -> FakeHome:
        root.mkdir(parents=True, exist_ok=True)
        runtime = root / "run"
        runtime.mkdir(mode=0o700, exist_ok=True)
        env = {
            "HOME": str(root),
            "XDG_CONFIG_HOME": str(root / ".config"),
            "XDG_STATE_HOME": str(root / ".local" / "state"),
            "XDG_CACHE_HOME": str(root / ".cache"),
            "XDG_DATA_HOME": str(root / ".local" / "share"),
            "XDG_RUNTIME_DIR": str(runtime),
        }
        return cls(root, env)

    # -- paths -------------------------------------------------------------------------
    @property
    def docker_config_path(self) -> Path:
        return Path(self.env.get("DOCKER_CONFIG", self.root / ".docker")) / "config.json"

    @property
    def state_dir(self) -> Path:
        return Path(self.env["XDG_STATE_HOME"]) / "ecr-token-tray"

    @property
    def config_toml(self) -> Path:
        return Path(self.env["XDG_CONFIG_HOME"]) / "ecr-token-tray" / "config.toml"

    @property
    def podman_auth_path(self) -> Path:
        return Path(self.env["XDG_RUNTIME_DIR"]) / "containers" / "auth.json"

    @property
    def helm_config_path(self) -> Path:
        """Helm's registry config on Linux: ``$XDG_CONFIG_HOME/helm/registry/config.json``."""
        if "HELM_REGISTRY_CONFIG" in self.env:
            return Path(self.env["HELM_REGISTRY_CONFIG"])
        return Path(self.env["XDG_CONFIG_HOME"]) / "helm" / "registry" / "config.json"

    @property
    def sso_cache_dir(self) -> Path:
        return self.root / ".aws" / "sso" / "cache"

    # -- writers -----------------------------------------------------------------------
    def write_json(self, path: Path, document: object) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document, indent=2))
        path.chmod(0o600)
        return path

    def docker_config(self, auths: dict | None = None, **extra: object) -> Path:
        return self.write_json(self.docker_config_path, {"auths": auths or {}, **extra})

    def helm_config(self, auths: dict | None = None, **extra: object) -> Path:
        """Helm's registry config as `helm registry login` leaves it (tab-indented JSON)."""
        path = self.helm_config_path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"auths": auths or {}, **extra}, indent="\t"))
        path.chmod(0o600)
        return path

    def podman_auth(self, auths: dict, path: Path | None = None) -> Path:
        """Podman's auth.json (default: the runtime one under XDG_RUNTIME_DIR)."""
        return self.write_json(path or self.podman_auth_path, {"auths": auths})

    def write_bytes(self, path: Path, data: bytes, mode: int = 0o600) -> Path:
        """Raw content, for files other tools damaged."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        path.chmod(mode)
        return path

    def credential_helper(self, name: str, script: str) -> Path:
        """A stand-in ``docker-credential-NAME`` (POSIX sh) in ``~/bin``; see ``path_with_bin``.

        Only for third-party misbehaviour (hangs, garbage, huge output): working stores use
        the real docker-credential-pass.
        """
        path = self.root / "bin" / f"docker-credential-{name}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("#!/bin/sh\n" + script)
        path.chmod(0o755)
        return path

    @property
    def path_with_bin(self) -> str:
        return f"{self.root / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"

    def ecr_login_cache(self, entries: dict[str, datetime], path: Path | None = None) -> Path:
        """amazon-ecr-credential-helper's cache.json, keyed as the helper keys it."""
        registries = {}
        credential_hash = hashlib.sha1(b"AKIAEXAMPLE").hexdigest()
        for registry_host, expires in entries.items():
            public = ".dkr" not in registry_host
            account, _, rest = registry_host.partition(".dkr.ecr.")
            key = (f"{registry_host}-{credential_hash}" if public
                   else f"{rest.split('.')[0]}-{credential_hash}-{account}")
            registries[key] = {
                "AuthorizationToken": docker_auth(720),
                "RequestedAt": (expires - timedelta(hours=12)).isoformat().replace("+00:00", "Z"),
                "ExpiresAt": expires.isoformat().replace("+00:00", "Z"),
                "ProxyEndpoint": f"https://{registry_host}",
                "Service": "ecr-public" if public else "ecr",
            }
        return self.write_json(path or self.root / ".ecr" / "cache.json",
                               {"Registries": registries, "Version": "1.0"})

    def aws_config(self, text: str) -> Path:
        path = self.root / ".aws" / "config"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def sso_token(self, session_or_url: str, start_url: str, expires: datetime,
                  refresh: bool = True, registration_days: float = 80,
                  region: str = "eu-west-1", expires_text: object = None,
                  file_stem: str | None = None) -> Path:
        """An SSO cache file as the AWS CLI v2 writes it (sha1 of session name / URL).

        ``expires_text`` replaces the ``expiresAt`` value (odd formats older tools wrote);
        ``file_stem`` names the file otherwise than the CLI's key rule.
        """
        key = file_stem or hashlib.sha1(session_or_url.encode()).hexdigest()
        document = {
            "startUrl": start_url,
            "region": region,
            "accessToken": SSO_ACCESS_TOKEN,
            "expiresAt": (expires.strftime("%Y-%m-%dT%H:%M:%SZ") if expires_text is None
                          else expires_text),
        }
        if refresh:
            document.update({
                "clientId": "client-id-example",
                "clientSecret": "client-secret-example",
                "registrationExpiresAt": (datetime.now(UTC) + timedelta(days=registration_days)
                                          ).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "refreshToken": SSO_REFRESH_TOKEN,
            })
        return self.write_json(self.sso_cache_dir / f"{key}.json", document)

    def sso_registration(self, session: str, start_url: str, days_left: float = 80) -> Path:
        """A client-registration file, as botocore keeps next to the tokens (no accessToken)."""
        key = hashlib.sha1(json.dumps({"tool": "botocore", "startUrl": start_url,
                                       "session_name": session}).encode()).hexdigest()
        expires = datetime.now(UTC) + timedelta(days=days_left)
        return self.write_json(self.sso_cache_dir / f"{key}.json", {
            "clientId": "client-id-example",
            "clientSecret": "client-secret-example",
            "expiresAt": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "scopes": ["sso:account:access"],
        })

    def app_config(self, text: str) -> Path:
        self.config_toml.parent.mkdir(parents=True, exist_ok=True)
        self.config_toml.write_text(text)
        return self.config_toml

    # -- running -----------------------------------------------------------------------
    def full_env(self, **overrides: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("AWS_", "DOCKER_", "REGISTRY_AUTH", "XDG_", "ECR_TOKEN"))}
        env.update(self.env)
        env.update(overrides)
        return env

    def run_cli(self, *args: str, timeout: float = 60, input: str | None = None,
                **env_overrides: str) -> subprocess.CompletedProcess:
        """Run the real entry point as a user would, in this HOME."""
        return subprocess.run(
            [sys.executable, "-m", "tray_app", *args],
            env=self.full_env(**env_overrides), capture_output=True, text=True,
            timeout=timeout, input=input, cwd=self.root,
        )

    def files(self) -> dict[str, tuple[bytes, int]]:
        """Every file under HOME with its bytes and mode: compare before/after a command."""
        found = {}
        for path in sorted(self.root.rglob("*")):
            if path.is_symlink() or not path.is_file():
                found[str(path)] = (b"<not a file>", path.lstat().st_mode)
                continue
            try:
                found[str(path)] = (path.read_bytes(), path.stat().st_mode)
            except OSError as error:  # a FIFO or a file we made unreadable on purpose
                found[str(path)] = (repr(error).encode(), path.lstat().st_mode)
        return found

    def status_json(self, **env_overrides: str) -> dict:
        result = self.run_cli("status", "--json", **env_overrides)
        assert result.returncode in (0, 1, 2), result.stderr
        return json.loads(result.stdout)
