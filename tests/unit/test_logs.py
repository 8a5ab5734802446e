"""tray_app.logs: where the log lives, its mode, rotation, and redaction (tracebacks too)."""

from __future__ import annotations

import base64
import logging
import os
import stat
import sys
from pathlib import Path

import pytest

from tests import figures
from tests.builders import ecr_password, in_
from tray_app.logs import (
    BACKUPS,
    LOG_FILE,
    MASK,
    MAX_BYTES,
    log_file,
    redact,
    register_secret,
    setup_logging,
)
from tray_app.settings import Paths
from tray_app.tokens import make_authorization_token

log = logging.getLogger("tray_app.test_logs")
# setup_logging configures the process-wide "tray_app" logger: every test leaves it as found.
pytestmark = pytest.mark.usefixtures("app_logging_restored")


@pytest.fixture
def loose_umask():
    """A umask of 022, as most desktops have: new files would be 0644 without care."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def flush_handlers() -> None:
    for handler in logging.getLogger("tray_app").handlers:
        handler.flush()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the XDG rule is Linux's")
def test_the_log_lives_in_the_xdg_state_dir_on_linux(home):
    paths = Paths.from_env()
    expected = Path(home.env["XDG_STATE_HOME"]) / "ecr-token-tray" / "log"
    assert paths.log_dir == expected
    assert setup_logging(paths.log_dir) == expected / LOG_FILE == log_file(paths.log_dir)


def test_log_file_is_0600_in_a_0700_folder_whatever_the_umask(tmp_path, loose_umask):
    log_dir = tmp_path / "state" / "log"
    path = setup_logging(log_dir)
    log.info("hello")
    flush_handlers()
    assert path is not None and "hello" in path.read_text()
    assert mode_of(path) == 0o600
    assert mode_of(log_dir) == 0o700


def test_an_existing_loose_log_file_is_tightened_to_0600(tmp_path):
    log_dir = tmp_path / "log"
    log_dir.mkdir()
    old = log_dir / LOG_FILE
    old.write_text("an older line\n")
    old.chmod(0o644)
    setup_logging(log_dir)
    log.info("new line")
    flush_handlers()
    assert mode_of(old) == 0o600
    assert old.read_text().splitlines()[0] == "an older line"  # appended, not truncated


def test_defaults_rotate_at_1_mib_keeping_3_backups(tmp_path):
    setup_logging(tmp_path / "log")
    (handler,) = logging.getLogger("tray_app").handlers
    assert (handler.maxBytes, handler.backupCount) == (MAX_BYTES, BACKUPS) == (2**20, 3)


def test_rotation_at_the_size_limit_keeps_the_configured_backups_all_0600(tmp_path,
                                                                         loose_umask):
    log_dir = tmp_path / "log"
    path = setup_logging(log_dir, max_bytes=2000, backups=2)
    for number in range(200):
        log.info("line %03d %s", number, "x" * 60)
    flush_handlers()
    files = sorted(p.name for p in log_dir.iterdir())
    assert files == [LOG_FILE, f"{LOG_FILE}.1", f"{LOG_FILE}.2"]
    for name in files:
        assert mode_of(log_dir / name) == 0o600, name
        assert (log_dir / name).stat().st_size <= 2000, name
    assert "line 199" in path.read_text()  # the newest lines are in the live file
    oldest_kept = (log_dir / f"{LOG_FILE}.2").read_text()
    assert "line 000" not in oldest_kept  # older backups were dropped, not kept forever
    figures.record("log rotation: files kept (limit 2 backups)", len(files))


def test_without_a_log_dir_only_warnings_reach_stderr(capsys):
    assert setup_logging(None) is None
    log.info("quiet")
    log.warning("loud")
    err = capsys.readouterr().err
    assert "loud" in err and "quiet" not in err


# -- redaction -----------------------------------------------------------------------------
SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def redaction_cases() -> list[tuple[str, str, str]]:
    """(what, text containing a secret, the secret)."""
    password = ecr_password(720, base64.b64encode(os.urandom(300)).decode())
    auth = make_authorization_token(password)
    return [
        ("ECR password (long base64)", f"token is {password} ok", password),
        ("docker auth form", f'{{"auths": {{"h": {{"auth": "{auth}"}}}}}}', auth),
        ("Authorization Basic", "Authorization: Basic dXNlcjpzM2NyZXRwYXNz",
         "dXNlcjpzM2NyZXRwYXNz"),
        ("Authorization Bearer", "authorization: Bearer eyJhbGciOi.abc.def", "eyJhbGciOi.abc.def"),
        ("SigV4 Authorization in a dict repr",
         "{'Authorization': 'AWS4-HMAC-SHA256 Credential=x/20240101/eu-west-1/ecr/aws4_request,"
         " SignedHeaders=host, Signature=0123456789abcdef0123456789abcdef'}",
         "Signature=0123456789abcdef0123456789abcdef"),
        ("access key id AKIA", "using key AKIAIOSFODNN7EXAMPLE now", "AKIAIOSFODNN7EXAMPLE"),
        ("access key id ASIA", "creds ASIAZZZZ1234ABCD5678 expire", "ASIAZZZZ1234ABCD5678"),
        ("secret access key, ini", f"aws_secret_access_key = {SECRET_ACCESS_KEY}",
         SECRET_ACCESS_KEY),
        ("secret access key, JSON", f'{{"SecretAccessKey": "{SECRET_ACCESS_KEY}"}}',
         SECRET_ACCESS_KEY),
        ("refreshToken JSON fragment", '{"refreshToken": "opaque-refresh-42xyz", "x": 1}',
         "opaque-refresh-42xyz"),
        ("accessToken in a dict repr", "{'accessToken': 'opaque-access-42xyz'}",
         "opaque-access-42xyz"),
        ("clientSecret JSON fragment", '"clientSecret":"cs-9f8e7d6c5b4a"', "cs-9f8e7d6c5b4a"),
        ("SSO access token by prefix", "got aoaAAAAAGabcDEF123-_:xyz for corp",
         "aoaAAAAAGabcDEF123-_:xyz"),
        ("STS session token by prefix", "token IQoJb3JpZ2luX2VjEJr//////////wEaCXVz end",
         "IQoJb3JpZ2luX2VjEJr//////////wEaCXVz"),
        ("x-amz-security-token header", "X-Amz-Security-Token: FQoGZXIvYXdzEXAMPLE",
         "FQoGZXIvYXdzEXAMPLE"),
        ("password=", "password=hunter2hunter2", "hunter2hunter2"),
    ]


@pytest.mark.parametrize("what, text, secret", redaction_cases(),
                         ids=[case[0] for case in redaction_cases()])
def test_pattern_redaction(what, text, secret):
    cleaned = redact(text)
    assert secret not in cleaned and MASK in cleaned, what
    figures.add("log redaction cases passed")


def test_a_registered_secret_and_its_docker_auth_form_are_masked_anywhere():
    secret = "short-opaque-secret-5c1b"  # no pattern would recognise this one
    register_secret(secret)
    auth = base64.b64encode(f"AWS:{secret}".encode()).decode()
    cleaned = redact(f"a {secret} b {auth} c {secret[:10]}")
    assert secret not in cleaned and auth not in cleaned
    assert cleaned.startswith(f"a {MASK} b {MASK} c")


def test_ordinary_text_is_left_alone():
    line = ("SSO session corp (profile dev): token expires 2024-05-01T10:00:00Z (in 3 h),"
            " 4 tokens left, /home/user/.docker/config.json")
    assert redact(line) == line


def test_records_arguments_and_tracebacks_are_redacted_in_the_file(tmp_path):
    secret_password = ecr_password(60, base64.b64encode(os.urandom(200)).decode())
    refresh = "aorAAAAAGrefresh-in-a-traceback-7"
    registered = "registered-only-secret-77aa"
    register_secret(registered)
    path = setup_logging(tmp_path / "log", debug=True)
    log.debug("stored %s for %s", secret_password, "host")
    try:
        raise ValueError(f'boom {{"refreshToken": "{refresh}"}} {registered}')
    except ValueError:
        log.exception("refresh failed")
        log.debug("with exc_info", exc_info=True, stack_info=True)
    flush_handlers()
    text = path.read_text()
    assert "Traceback (most recent call last)" in text and "ValueError: boom" in text
    assert "Stack (most recent call last)" in text
    for secret in (secret_password, refresh, registered):
        assert secret not in text


def test_a_traceback_is_redacted_before_other_handlers_reuse_it(tmp_path):
    """logging caches the formatted traceback on the record (exc_text); a second, plain
    handler reuses that cache, so the cache itself must be clean."""
    secret = "aorAAAAAGcached-traceback-secret"
    setup_logging(tmp_path / "log", debug=True)
    seen: list[str] = []

    class Plain(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(logging.Formatter().format(record))

    plain = Plain()
    logging.getLogger("tray_app").addHandler(plain)  # after the app's own handler
    try:
        raise RuntimeError(f"refreshToken={secret}")
    except RuntimeError:
        log.exception("failed")
    assert seen and "RuntimeError" in seen[0]
    assert secret not in seen[0]


def test_a_docker_auth_logged_by_mistake_is_masked(tmp_path):
    """A real ECR docker auth (as `docker login` stores it) logged by mistake."""
    auth = make_authorization_token(ecr_password(30))
    path = setup_logging(tmp_path / "log")
    log.info("config entry: %s", {"auth": auth, "expires": in_(30).isoformat()})
    flush_handlers()
    text = path.read_text()
    assert auth not in text and MASK in text
