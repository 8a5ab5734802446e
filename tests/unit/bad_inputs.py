"""The bad-input corpus: files and helpers other tools left in a state we must survive.

Each case damages ONE place on top of a healthy baseline HOME (see ``baseline``) and says
which message it must give: a substring of the problem (``message``) and of what to do
(``fix``). ``message=None`` marks odd-but-valid input that must be read without complaint.
``hides`` names the baseline rows the damage legitimately takes down with it (a broken
config.json hides the logins it held); everything else must still be reported.
"""

from __future__ import annotations

import codecs
import json
import os
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.builders import FakeHome, docker_auth, host, in_

GOOD_DOCKER = host("222222222222", "eu-central-1")  # plain auth in config.json
MANAGED = host("666666666666", "ap-south-1")  # credHelpers -> ecr-login, cached expiry
GOOD_PODMAN = host("555555555555", "us-west-2")  # Podman's runtime auth.json
GOOD_HELM = host("444444444444", "eu-north-1")  # Helm's registry/config.json
VICTIM = host("777777777777", "eu-west-1")  # the registry a case damages, when one
BIG = 50 * 1024 * 1024

AWS_CONFIG = """[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1

[profile dev]
sso_session = corp
sso_account_id = 222222222222
region = eu-central-1
"""

# The rows (host, source) and SSO session every case must still report, unless hidden.
BASELINE_ROWS = {
    "docker": (GOOD_DOCKER, "docker-config"),
    "ecr-login": (MANAGED, "ecr-login"),
    "podman": (GOOD_PODMAN, "podman"),
    "helm": (GOOD_HELM, "helm"),
}


def baseline(home: FakeHome) -> None:
    docker_config(home)
    home.ecr_login_cache({MANAGED: in_(300)})
    home.podman_auth({GOOD_PODMAN: {"auth": docker_auth(400)}})
    home.helm_config({GOOD_HELM: {"auth": docker_auth(450)}})
    home.aws_config(AWS_CONFIG)
    home.sso_token("corp", "https://corp.awsapps.com/start", in_(200))


def docker_config(home: FakeHome, extra_auths: dict | None = None, **extra: object) -> Path:
    auths = {GOOD_DOCKER: {"auth": docker_auth(500)}, MANAGED: {}, **(extra_auths or {})}
    helpers = {MANAGED: "ecr-login", **extra.pop("credHelpers", {})}
    return home.docker_config(auths, credHelpers=helpers, **extra)


@dataclass(frozen=True)
class BadInput:
    id: str
    build: Callable[[FakeHome], str]  # damages HOME; returns the file or helper to name
    message: str | None
    fix: str | None = None
    hides: frozenset[str] = frozenset()
    unreadable: bool = False  # run the CLI as another user, the returned file mode 000
    env: Callable[[FakeHome], dict[str, str]] = field(default=lambda home: {})


# -- ways to damage a file ---------------------------------------------------------------

def truncated(document: dict) -> bytes:
    text = json.dumps(document)
    return text[: len(text) * 2 // 3].encode()


def garbage() -> bytes:
    return b"\x00\x9c\xff" + random.Random(7).randbytes(4096)


def huge() -> bytes:
    return b'{"auths": {"x": "' + b"A" * BIG + b'"}}'


def symlink_loop(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    other = path.with_name(path.name + ".loop")
    other.symlink_to(path)
    path.symlink_to(other)


def fifo(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path, 0o600)


def replace(path_of: Callable[[FakeHome], Path], content: bytes | Callable[[Path], None]
            ) -> Callable[[FakeHome], str]:
    """A builder putting ``content`` (bytes, or a function making the path) at a place."""
    def build(home: FakeHome) -> str:
        path = path_of(home)
        if path.exists() or path.is_symlink():
            path.unlink()
        if callable(content):
            content(path)
        else:
            home.write_bytes(path, content)
        return str(path)
    return build


def docker_path(home: FakeHome) -> Path:
    return home.docker_config_path


def podman_path(home: FakeHome) -> Path:
    return home.podman_auth_path


def helm_path(home: FakeHome) -> Path:
    return home.helm_config_path


def helm_with(home: FakeHome, auths: dict) -> Path:
    return home.helm_config({GOOD_HELM: {"auth": docker_auth(450)}, **auths})


def ecr_cache_path(home: FakeHome) -> Path:
    return home.root / ".ecr" / "cache.json"


def sso_token_path(home: FakeHome) -> Path:
    return home.sso_token("corp", "https://corp.awsapps.com/start", in_(200))


def sso_token_path_text(home: FakeHome) -> str:
    return str(sso_token_path(home))


def aws_config_path(home: FakeHome) -> Path:
    return home.root / ".aws" / "config"


def with_auths(write: Callable[[FakeHome, dict], Path], auths: dict
               ) -> Callable[[FakeHome], str]:
    return lambda home: str(write(home, auths))


def docker_with(home: FakeHome, auths: dict) -> Path:
    return docker_config(home, auths)


def podman_with(home: FakeHome, auths: dict) -> Path:
    return home.podman_auth({GOOD_PODMAN: {"auth": docker_auth(400)}, **auths})


def aws_config_text(text: str | bytes) -> Callable[[FakeHome], str]:
    def build(home: FakeHome) -> str:
        path = aws_config_path(home)
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
        return str(path)
    return build


def sso_document(change: Callable[[dict], None]) -> Callable[[FakeHome], str]:
    def build(home: FakeHome) -> str:
        path = sso_token_path(home)
        document = json.loads(path.read_text())
        change(document)
        home.write_json(path, document)
        return str(path)
    return build


def helper(name: str, script: str, *, store: bool = False) -> Callable[[FakeHome], str]:
    """A stand-in ``docker-credential-NAME`` serving VICTIM (credHelpers) or all (credsStore)."""
    def build(home: FakeHome) -> str:
        home.credential_helper(name, script)
        if store:
            docker_config(home, {VICTIM: {}}, credsStore=name)
        else:
            docker_config(home, credHelpers={VICTIM: name})
        return f"docker-credential-{name}"
    return build


def missing_helper(name: str) -> Callable[[FakeHome], str]:
    def build(home: FakeHome) -> str:
        docker_config(home, credHelpers={VICTIM: name})
        return f"docker-credential-{name}"
    return build


def registration_only(home: FakeHome) -> str:
    """The token is gone; only botocore's client registration is left in the cache."""
    sso_token_path(home).unlink()
    return str(home.sso_registration("corp", "https://corp.awsapps.com/start"))


def auth_file_directory(home: FakeHome) -> str:
    """REGISTRY_AUTH_FILE names a folder (the case's env points it there)."""
    (home.root / "auth-dir").mkdir()
    return str(home.root / "auth-dir")


def settings_text(text: str) -> Callable[[FakeHome], str]:
    return lambda home: str(home.app_config(text))


def state_file(content: bytes) -> Callable[[FakeHome], str]:
    return lambda home: str(home.write_bytes(home.state_dir / "logins.json", content))


DOCKER = frozenset({"docker", "ecr-login"})  # both rows live in config.json
PODMAN = frozenset({"podman"})
HELM = frozenset({"helm"})
SSO = frozenset({"sso"})
GOOD_AUTHS = {"auths": {GOOD_DOCKER: {"auth": docker_auth(500)}}}
NOT_JSON = "not valid JSON"

CASES: list[BadInput] = [
    # -- Docker's config.json ------------------------------------------------------------
    BadInput("docker-truncated", replace(docker_path, truncated(GOOD_AUTHS)), NOT_JSON,
             "fix or remove the file", DOCKER),
    BadInput("docker-empty", replace(docker_path, b""), "file is empty", "log in again",
             DOCKER),
    BadInput("docker-whitespace", replace(docker_path, b"  \n\t\n"), "file is empty",
             "log in again", DOCKER),
    BadInput("docker-bom", replace(docker_path, codecs.BOM_UTF8 + json.dumps({
        "auths": {GOOD_DOCKER: {"auth": docker_auth(500)}, MANAGED: {}},
        "credHelpers": {MANAGED: "ecr-login"}}).encode()), None),
    BadInput("docker-utf16", replace(docker_path, codecs.BOM_UTF16_LE + json.dumps(
        GOOD_AUTHS).encode("utf-16-le")), "saved as UTF-16", "save it again as UTF-8", DOCKER),
    BadInput("docker-nulls", replace(docker_path, json.dumps({
        "auths": None, "credsStore": None, "credHelpers": None}).encode()), None, hides=DOCKER),
    BadInput("docker-auths-list", replace(docker_path, b'{"auths": []}'),
             "`auths` is an array, not an object", "fix the file", DOCKER),
    BadInput("docker-top-level-array", replace(docker_path, b"[1, 2]"),
             "top level is an array, not an object", "fix or remove the file", DOCKER),
    BadInput("docker-null", replace(docker_path, b"null"), "holds only `null`",
             "fix or remove the file", DOCKER),
    BadInput("docker-auth-number", with_auths(docker_with, {VICTIM: {"auth": 12345}}),
             "`auth` is a number, not a base64 string", f"ecr-token-tray login {VICTIM}"),
    BadInput("docker-auth-not-base64", with_auths(docker_with, {VICTIM: {"auth": "%%%not*"}}),
             "`auth` is not base64", f"ecr-token-tray login {VICTIM}"),
    BadInput("docker-auth-no-colon", with_auths(docker_with, {VICTIM: {"auth": "bm9jb2xvbg=="}}),
             "no `user:password` colon", f"ecr-token-tray login {VICTIM}"),
    BadInput("docker-auth-binary", with_auths(docker_with, {VICTIM: {"auth": "//79AA=="}}),
             "does not decode to text", f"ecr-token-tray login {VICTIM}"),
    BadInput("docker-entry-string", with_auths(docker_with, {VICTIM: "QVdTOng="}),
             "is a string, not an object", f"ecr-token-tray login {VICTIM}"),
    BadInput("docker-creds-store-number",
             lambda home: str(docker_config(home, credsStore=7)),
             "`credsStore` is not a string", "fix the file", DOCKER),
    BadInput("docker-cred-helpers-list",
             replace(docker_path, b'{"auths": {}, "credHelpers": ["ecr-login"]}'),
             "`credHelpers` is not an object", "fix the file", DOCKER),
    BadInput("docker-50mb", replace(docker_path, huge()), "larger than 10 MiB",
             "move it aside", DOCKER),
    BadInput("docker-binary-garbage", replace(docker_path, garbage()), "not text",
             "move it aside", DOCKER),
    BadInput("docker-nested-deeply", replace(docker_path, b"[" * 200000 + b"]" * 200000),
             "nested too deeply", "fix or remove the file", DOCKER),
    BadInput("docker-symlink-loop", replace(docker_path, symlink_loop),
             "Too many levels of symbolic links", "symlink loop", DOCKER),
    BadInput("docker-directory", replace(docker_path, lambda p: p.mkdir()),
             "not a regular file", "replace it with a file", DOCKER),
    BadInput("docker-fifo", replace(docker_path, fifo), "not a regular file",
             "replace it with a file", DOCKER),
    BadInput("docker-no-permission", lambda home: str(docker_path(home)),
             "no permission to read it", "chmod u+r", DOCKER, unreadable=True),
    # -- Podman's auth.json --------------------------------------------------------------
    BadInput("podman-truncated", replace(podman_path, truncated({"auths": {GOOD_PODMAN: {}}})),
             NOT_JSON, "fix or remove the file", PODMAN),
    BadInput("podman-empty", replace(podman_path, b""), "file is empty", "log in again", PODMAN),
    BadInput("podman-bom", replace(podman_path, codecs.BOM_UTF8 + json.dumps(
        {"auths": {GOOD_PODMAN: {"auth": docker_auth(400)}}}).encode()), None),
    BadInput("podman-top-level-string", replace(podman_path, b'"auths"'),
             "top level is a string, not an object", "fix or remove the file", PODMAN),
    BadInput("podman-auths-list", replace(podman_path, b'{"auths": ["x"]}'),
             "`auths` is an array, not an object", "fix the file", PODMAN),
    BadInput("podman-auth-number", with_auths(podman_with, {f"{VICTIM}/team/app": {"auth": 1}}),
             "`auth` is a number", f"ecr-token-tray login {VICTIM}"),
    BadInput("podman-auth-not-base64", with_auths(podman_with, {VICTIM: {"auth": "@@@"}}),
             "`auth` is not base64", f"ecr-token-tray login {VICTIM}"),
    BadInput("podman-auth-no-colon", with_auths(podman_with, {VICTIM: {"auth": "bm9jb2xvbg"}}),
             "no `user:password` colon", f"ecr-token-tray login {VICTIM}"),
    BadInput("podman-50mb", replace(podman_path, huge()), "larger than 10 MiB", "move it aside",
             PODMAN),
    BadInput("podman-binary-garbage", replace(podman_path, garbage()), "not text",
             "move it aside", PODMAN),
    BadInput("podman-symlink-loop", replace(podman_path, symlink_loop),
             "Too many levels of symbolic links", "symlink loop", PODMAN),
    BadInput("podman-no-permission", lambda home: str(podman_path(home)),
             "no permission to read it", "chmod u+r", PODMAN, unreadable=True),
    BadInput("podman-registry-auth-file-directory", auth_file_directory, "not a regular file",
             "replace it with a file", PODMAN,
             env=lambda home: {"REGISTRY_AUTH_FILE": str(home.root / "auth-dir")}),
    # -- Helm's registry/config.json -----------------------------------------------------
    BadInput("helm-truncated", replace(helm_path, truncated({"auths": {GOOD_HELM: {}}})),
             NOT_JSON, "fix or remove the file", HELM),
    BadInput("helm-auths-list", replace(helm_path, b'{"auths": ["x"]}'),
             "`auths` is an array, not an object", "fix the file", HELM),
    BadInput("helm-creds-store-number", replace(helm_path, b'{"auths": {}, "credsStore": 1}'),
             "`credsStore` is not a string", "fix the file", HELM),
    BadInput("helm-auth-not-base64", with_auths(helm_with, {VICTIM: {"auth": "@@@"}}),
             "`auth` is not base64", f"ecr-token-tray login {VICTIM}"),
    BadInput("helm-50mb", replace(helm_path, huge()), "larger than 10 MiB", "move it aside",
             HELM),
    BadInput("helm-directory", replace(helm_path, lambda p: p.mkdir()),
             "not a regular file", "replace it with a file", HELM),
    BadInput("helm-no-permission", lambda home: str(helm_path(home)),
             "no permission to read it", "chmod u+r", HELM, unreadable=True),
    BadInput("helm-registry-config-directory", auth_file_directory, "not a regular file",
             "replace it with a file", HELM,
             env=lambda home: {"HELM_REGISTRY_CONFIG": str(home.root / "auth-dir")}),
    # -- amazon-ecr-credential-helper's cache.json ---------------------------------------
    BadInput("ecr-cache-truncated", replace(ecr_cache_path, truncated(
        {"Registries": {"k": {"ProxyEndpoint": f"https://{MANAGED}"}}})), NOT_JSON,
        "fix or remove the file"),
    BadInput("ecr-cache-empty", replace(ecr_cache_path, b""), "file is empty", "log in again"),
    BadInput("ecr-cache-bom", lambda home: str(home.write_bytes(
        ecr_cache_path(home), codecs.BOM_UTF8 + ecr_cache_path(home).read_bytes())), None),
    BadInput("ecr-cache-registries-list", replace(ecr_cache_path, b'{"Registries": []}'),
             "no `Registries` object", "docker-credential-ecr-login recreates it"),
    BadInput("ecr-cache-binary-garbage", replace(ecr_cache_path, garbage()), "not text",
             "move it aside"),
    BadInput("ecr-cache-50mb", replace(ecr_cache_path, huge()), "larger than 10 MiB",
             "move it aside"),
    BadInput("ecr-cache-symlink-loop", replace(ecr_cache_path, symlink_loop),
             "Too many levels of symbolic links", "symlink loop"),
    BadInput("ecr-cache-no-permission", lambda home: str(ecr_cache_path(home)),
             "no permission to read it", "chmod u+r", unreadable=True),
    BadInput("ecr-cache-odd-entries", replace(ecr_cache_path, json.dumps({"Registries": {
        "a": {"ProxyEndpoint": 5, "ExpiresAt": "soon"}, "b": "x",
        "c": {"ProxyEndpoint": f"https://{MANAGED}", "ExpiresAt": "never"}}}).encode()), None),
    # -- the SSO token cache -------------------------------------------------------------
    BadInput("sso-missing-expiry", sso_document(lambda d: d.pop("expiresAt")),
             "`expiresAt` is missing or not a time", "aws sso login --sso-session corp", SSO),
    BadInput("sso-odd-expiry", sso_document(lambda d: d.update(expiresAt="tomorrow noon")),
             "`expiresAt` is missing or not a time", "aws sso login --sso-session corp", SSO),
    BadInput("sso-utc-suffix-expiry", sso_document(lambda d: d.update(
        expiresAt=in_(200).strftime("%Y-%m-%d %H:%M:%S UTC"))), None),
    BadInput("sso-nanosecond-expiry", sso_document(lambda d: d.update(
        expiresAt=in_(200).strftime("%Y-%m-%dT%H:%M:%S.123456789Z"))), None),
    BadInput("sso-registration-file-only", registration_only, None, hides=SSO),
    BadInput("sso-missing-refresh-fields", sso_document(
        lambda d: [d.pop(k) for k in ("refreshToken", "clientSecret")]), None),
    BadInput("sso-truncated", replace(sso_token_path, truncated(
        {"startUrl": "https://corp.awsapps.com/start", "accessToken": "x"})), NOT_JSON,
        "fix or remove the file", SSO),
    BadInput("sso-binary-garbage", replace(sso_token_path, garbage()), "not text",
             "move it aside", SSO),
    BadInput("sso-no-permission", sso_token_path_text, "no permission to read it",
             "chmod u+r", SSO, unreadable=True),
    BadInput("sso-symlink-loop", replace(sso_token_path, symlink_loop),
             "Too many levels of symbolic links", "symlink loop", SSO),
    # -- ~/.aws/config -------------------------------------------------------------------
    BadInput("aws-duplicate-section", aws_config_text(AWS_CONFIG + "\n[profile dev]\nregion = x\n"),
             "section [profile dev] appears twice", "merge the duplicates"),
    BadInput("aws-duplicate-key", aws_config_text(AWS_CONFIG + "region = us-east-1\n"),
             "key 'region' in [profile dev] appears twice", "merge the duplicates"),
    BadInput("aws-missing-sso-session", aws_config_text(
        AWS_CONFIG + "\n[profile ops]\nsso_session = gone\nsso_account_id = 333333333333\n"),
        "profile ops names sso_session 'gone', which has no [sso-session] section",
        "aws configure sso"),
    BadInput("aws-session-without-region", aws_config_text(
        AWS_CONFIG.replace("sso_region = eu-west-1\n", "")),
        "[sso-session corp] lacks sso_start_url or sso_region", "aws configure sso-session",
        SSO),
    BadInput("aws-no-section-header", aws_config_text("region = eu-west-1\n" + AWS_CONFIG),
             "not a valid INI file", "aws configure sso", SSO),
    BadInput("aws-unclosed-section", aws_config_text("[profile dev\nregion = x\n"),
             "not a valid INI file", "aws configure sso", SSO),
    BadInput("aws-not-utf8", aws_config_text(b"[profile dev]\nregion = \xff\xfe\n"),
             "not UTF-8 text", "save it again as UTF-8", SSO),
    BadInput("aws-no-permission", lambda home: str(aws_config_path(home)),
             "Permission denied", "fix the file's permissions", SSO, unreadable=True),
    # -- credential helpers --------------------------------------------------------------
    BadInput("helper-hangs", helper("hang", "exec sleep 60\n"), "no answer within 5 s",
             "unlock it and retry"),
    BadInput("helper-exit-1", helper("exit1", 'echo "store is locked"; exit 1\n'),
             "failed (exit 1: store is locked)", "run it by hand"),
    BadInput("helper-garbage", helper("garbage", "echo '<html>oops</html>'\n"),
             "printed something that is not JSON", "run it by hand"),
    BadInput("helper-huge-output", helper("huge", "exec yes AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"),
             "printed over 1 MiB, stopped it", "reinstall it"),
    BadInput("helper-missing", missing_helper("absent"), "not found on PATH",
             "install it, or remove `absent`"),
    BadInput("helper-no-secret", helper("nosecret", 'echo \'{"Username": "AWS"}\'\n'),
             "answer has no `Secret` string", "check the helper's version"),
    BadInput("store-list-exit-1", helper("lockedstore", 'echo "gpg: decryption failed"; exit 1\n',
                                         store=True),
             "list: failed (exit 1: gpg: decryption failed)", "run it by hand", DOCKER),
    BadInput("store-list-array", helper("arraystore", "echo '[1, 2]'\n", store=True),
             "list: answered an array, not a JSON object", "check the helper's version", DOCKER),
    BadInput("store-list-hangs", helper("hangstore", "exec sleep 60\n", store=True),
             "list: no answer within 5 s", "unlock it and retry", DOCKER),
    # -- this app's own files ------------------------------------------------------------
    BadInput("settings-invalid-toml", settings_text("[thresholds\n"), "not valid TOML",
             "defaults are used meanwhile"),
    BadInput("settings-wrong-type", settings_text("[thresholds]\nwarning_minutes = 'x'\n"),
             "warning_minutes must be a whole number", "defaults are used meanwhile"),
    BadInput("state-truncated", state_file(b'{"version": 1, "registries": {'), NOT_JSON,
             "fix or remove the file"),
    BadInput("state-no-registries", state_file(b'{"version": 1}'), "no `registries` table",
             "the next `ecr-token-tray login` recreates it"),
]
