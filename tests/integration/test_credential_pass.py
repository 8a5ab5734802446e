"""A real credential helper: Debian's docker-credential-pass, `pass` and a throwaway gpg key.

The ECR-shaped secret is stored with `docker-credential-pass store` (as `docker login` does)
and read back through `ecr-token-tray status --json`, with `credsStore: "pass"` and with a
`credHelpers` entry.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.builders import ecr_password, host, in_

PROGRAMS = ("docker-credential-pass", "pass", "gpg", "gpgconf")
DEV = host("222222222222", "eu-central-1")
OPS = host("333333333333", "us-west-2")
ABSENT = host("444444444444", "ap-south-1")

KEY_PARAMETERS = """%no-protection
Key-Type: EDDSA
Key-Curve: ed25519
Subkey-Type: ECDH
Subkey-Curve: cv25519
Name-Real: ecr-token-tray test
Name-Email: test@example.invalid
Expire-Date: 0
%commit
"""


@pytest.fixture(scope="module")
def pass_store():
    """GNUPGHOME + PASSWORD_STORE_DIR with an unprotected key; the gpg-agent is ended after."""
    missing = [name for name in PROGRAMS if shutil.which(name) is None]
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)} (apt install pass gnupg"
                    " golang-docker-credential-helpers)")
    top = Path(tempfile.mkdtemp(prefix="ecr-pass-"))  # short: gpg-agent's socket path
    gnupg, store = top / "gnupg", top / "store"
    gnupg.mkdir(mode=0o700)
    env = {**os.environ, "GNUPGHOME": str(gnupg), "PASSWORD_STORE_DIR": str(store)}
    run = lambda *argv, **kw: subprocess.run(  # noqa: E731
        argv, env=env, capture_output=True, text=True, timeout=60, check=True, **kw)
    try:
        run("gpg", "--batch", "--gen-key", input=KEY_PARAMETERS)
        listing = run("gpg", "--batch", "--with-colons", "--list-secret-keys").stdout
        fingerprint = next(line.split(":")[9] for line in listing.splitlines()
                           if line.startswith("fpr:"))
        run("pass", "init", fingerprint)
        yield {"GNUPGHOME": str(gnupg), "PASSWORD_STORE_DIR": str(store), "run": run}
    finally:
        subprocess.run(["gpgconf", "--kill", "gpg-agent"], env=env, capture_output=True,
                       timeout=30)
        shutil.rmtree(top, ignore_errors=True)


def store_login(pass_store, server_url: str, password: str) -> None:
    """What `docker login` does with a credential store: `docker-credential-pass store`."""
    pass_store["run"]("docker-credential-pass", "store", input=json.dumps(
        {"ServerURL": server_url, "Username": "AWS", "Secret": password}))


def store_files(pass_store) -> dict[str, bytes]:
    root = Path(pass_store["PASSWORD_STORE_DIR"])
    return {str(p): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def status(home, pass_store, *args: str):
    return home.run_cli("status", "--json", *args, GNUPGHOME=pass_store["GNUPGHOME"],
                        PASSWORD_STORE_DIR=pass_store["PASSWORD_STORE_DIR"])


def test_creds_store_pass_is_read_back_with_its_expiry(home, pass_store):
    dev_password, ops_password = ecr_password(11 * 60 + 2), ecr_password(-30)
    store_login(pass_store, DEV, dev_password)
    store_login(pass_store, f"https://{OPS}", ops_password)  # an older client's key form
    store_login(pass_store, "registry.example.com", ecr_password(60))  # not ECR: ignored
    home.docker_config({DEV: {}, OPS: {}}, credsStore="pass")
    before = store_files(pass_store)

    result = status(home, pass_store)

    assert result.returncode == 0, result.stderr
    rows = {r["host"]: r for r in json.loads(result.stdout)["registries"]}
    assert set(rows) >= {DEV, OPS} and "registry.example.com" not in rows
    assert rows[DEV]["source"] == "docker-credential-pass"
    assert rows[DEV]["state"] == "ok" and 11 * 3600 < rows[DEV]["seconds_left"] <= 11 * 3600 + 120
    assert rows[OPS]["state"] == "expired"
    for secret in (dev_password, ops_password):
        assert secret not in result.stdout + result.stderr
    assert store_files(pass_store) == before  # status only reads the store


def test_cred_helpers_entry_for_pass(home, pass_store):
    expires = in_(44)
    password = ecr_password(44)
    store_login(pass_store, "public.ecr.aws", password)
    home.docker_config({DEV: {"auth": "QVdTOng="}},
                       credHelpers={"public.ecr.aws": "pass", ABSENT: "pass"})

    result = status(home, pass_store)

    assert result.returncode == 0, result.stderr
    rows = {r["host"]: r for r in json.loads(result.stdout)["registries"]}
    public = rows["public.ecr.aws"]
    assert (public["source"], public["state"], public["account_id"]) == (
        "docker-credential-pass", "warning", None)
    assert abs(public["seconds_left"] - (expires - in_(0)).total_seconds()) < 120
    absent = rows[ABSENT]  # a credHelpers host the store has nothing for
    assert absent["state"] == "unknown" and "holds no login" in absent["detail"]
    assert password not in result.stdout + result.stderr


def test_check_sees_an_expired_login_in_the_store(home, pass_store):
    store_login(pass_store, DEV, ecr_password(-5))
    home.docker_config({DEV: {}}, credsStore="pass")
    assert status(home, pass_store, "--check").returncode == 1


def test_a_locked_store_is_a_clear_problem_not_a_crash(home, pass_store, tmp_path):
    store_login(pass_store, DEV, ecr_password(100))
    home.docker_config({DEV: {}}, credHelpers={DEV: "pass"})
    empty_gnupg = tmp_path / "g"
    empty_gnupg.mkdir(mode=0o700)
    result = home.run_cli("status", "--json", GNUPGHOME=str(empty_gnupg),
                          PASSWORD_STORE_DIR=pass_store["PASSWORD_STORE_DIR"])
    subprocess.run(["gpgconf", "--kill", "gpg-agent"], capture_output=True, timeout=30,
                   env={**os.environ, "GNUPGHOME": str(empty_gnupg)})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    (row,) = json.loads(result.stdout)["registries"]
    assert row["state"] == "unknown" and "docker-credential-pass get" in row["detail"]
    assert "docker-credential-pass get: failed (exit 1" in result.stderr, result.stderr
