"""Every file the app writes is written atomically, keeps its mode, keeps other tools' keys,
and is never replaced when it could not be parsed.

The writers: the app's state (``logins.json``, the tray's ``tray.json``), Docker's
``config.json`` on the direct-write path, the AWS CLI's SSO token cache (silent refresh) and
the XDG autostart entry. Each is exercised through its public function in a child process:

- killed with SIGKILL at random moments of a write loop while this test reads the file:
  every read, and the file left behind, is complete and valid;
- a write that fails midway (the child's RLIMIT_FSIZE makes the write fail with EFBIG, as a
  full disk would - running as root, a read-only folder would not stop it): the file keeps
  its bytes and mode, and no temp file is left.

(The 200-iteration race against real `docker login` is tests/integration/test_config_race.py.)
"""

from __future__ import annotations

import base64
import json
import os
import random
import signal
import stat
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import figures
from tests.builders import SSO_PROFILES_CONFIG, SSO_START_URL, docker_auth, host, in_
from tests.integration.sso_support import child_env, token_document
from tray_app.autostart import ENTRY_MODE, parse_desktop_entry
from tray_app.errors import TrayAppError

KILL_ROUNDS = 5
READY_TIMEOUT = 60.0
HOST = host("111111111111", "eu-west-1")

CHILD = r"""
import json, resource, signal, sys
from pathlib import Path
from tray_app.settings import Paths
paths = Paths.from_env()
{setup}
if sys.argv[1] == "loop":
    i = 0
    while True:
        write(i)
        i += 1
        if i == 1:
            print("ready", flush=True)
elif sys.argv[1] == "once":
    write(0)
else:  # one good write, then one that fails midway (file size limit: EFBIG)
    write(0)
    print("written", flush=True)
    sys.stdin.readline()
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (16, 16))
    try:
        write(1)
        print(json.dumps({{"raised": None}}), flush=True)
    except BaseException as error:
        print(json.dumps({{"raised": type(error).__name__, "text": str(error)}}), flush=True)
"""


@dataclass(frozen=True)
class Writer:
    name: str
    setup: str  # Python defining write(i) in the child
    target: object  # (home) -> Path
    valid: object  # (bytes) -> bool
    # What a failed write raises: the project's error naming the file, or OSError where
    # every caller catches it (engine.record_expiries, TrayLoop._remember).
    failure: str = "OSError"

    def code(self) -> str:
        return CHILD.format(setup=self.setup)


def _json_with(*keys: str):
    def valid(data: bytes) -> bool:
        try:
            document = json.loads(data)
        except ValueError:
            return False
        return isinstance(document, dict) and all(key in document for key in keys)
    return valid


def _desktop_entry_valid(data: bytes) -> bool:
    text = data.decode(errors="replace")
    return (text.startswith("[Desktop Entry]") and text.endswith("\n")
            and "Exec" in parse_desktop_entry(text))


LOGINS = Writer(
    "logins.json (statefile.record_logins)",
    """
from datetime import UTC, datetime, timedelta
from tray_app.statefile import RecordedLogin, record_logins
def write(i):
    now = datetime.now(UTC)
    record_logins(paths.state_dir, [RecordedLogin(
        f"{n:012d}.dkr.ecr.eu-west-1.amazonaws.com", now + timedelta(hours=12, seconds=i),
        "dev", now) for n in range(3000)])
""",
    lambda home: home.state_dir / "logins.json", _json_with("version", "registries"))

TRAY_STATE = Writer(
    "tray.json (alertstate.save_tray_state)",
    """
from tray_app.alertstate import TrayState, save_tray_state
def write(i):
    save_tray_state(paths.state_dir, TrayState(sent_alerts=frozenset(
        f"login|{n:012d}.dkr.ecr.eu-west-1.amazonaws.com|docker|2030-01-01T00:00:{i % 60:02d}Z|15"
        for n in range(4000)), auto_renew=bool(i % 2)))
""",
    lambda home: home.state_dir / "tray.json", _json_with("version", "sent_alerts"))

DOCKER_CONFIG = Writer(
    "config.json (renew.store.write_docker_auth, no docker CLI)",
    f"""
import base64
from tray_app.renew.store import write_docker_auth
def write(i):
    auth = base64.b64encode(f"AWS:password-{{i}}-".encode() + b"x" * 2000).decode()
    write_docker_auth(paths.docker_config, "{HOST}", auth)
""",
    lambda home: home.docker_config_path, _json_with("auths", "unknownTop", "credHelpers"),
    "RenewError")

SSO_CACHE = Writer(
    "SSO token cache (renew.sso silent refresh)",
    """
from tray_app.renew import sso
def write(i):
    sso.ensure_credentials("dev", allow_browser=False)
""",
    lambda home: home.sso_cache_dir / f"{sha1_hex('corp')}.json",
    _json_with("accessToken", "refreshToken", "clientSecret", "futureField"), "RenewError")

AUTOSTART = Writer(
    "autostart entry (autostart.enable)",
    """
from tray_app import autostart
def write(i):
    autostart.enable()
""",
    lambda home: Path(home.env["XDG_CONFIG_HOME"]) / "autostart" / "ecr-token-tray.desktop",
    _desktop_entry_valid, "AutostartError")

WRITERS = [LOGINS, TRAY_STATE, DOCKER_CONFIG, SSO_CACHE, AUTOSTART]


def sha1_hex(text: str) -> str:
    import hashlib

    return hashlib.sha1(text.encode()).hexdigest()


def big_docker_config() -> dict:
    """A config.json other tools filled: unknown keys at every level."""
    auths = {f"{n}.registry.example.com": {"auth": "dXNlcjpwYXNz", "x-note": {"n": n}}
             for n in range(1500)}
    auths[HOST] = {"auth": docker_auth(-30), "email": "kept@example.com",
                   "identitytoken": "", "x-unknown": {"nested": [1, {"deep": True}]}}
    return {
        "auths": auths,
        "credHelpers": {"gcr.io": "gcloud"},
        "plugins": {"buildx": {"default": "desktop-linux"}},
        "HttpHeaders": {"User-Agent": "Docker-Client/28"},
        "psFormat": "table {{.ID}}\t{{.Names}}",
        "detachKeys": "ctrl-e,e",
        "unknownTop": {"a": {"b": [1, 2.5, {"c": None, "d": "ü→"}]}, "big": 12345678901234567890},
    }


@pytest.fixture
def writers_home(home, sso_service):
    """HOME with every file each writer needs; the SSO token expires within 15 minutes at
    every refresh, so each ensure_credentials call refreshes (and rewrites the cache)."""
    home.aws_config(SSO_PROFILES_CONFIG)
    path = home.sso_token("corp", SSO_START_URL, in_(-5))
    document = json.loads(path.read_text())
    document["futureField"] = {"kept": [1, 2]}  # a key a newer AWS CLI might add
    path.write_text(json.dumps(document))
    sso_service.switches.access_token_seconds = 300
    home.docker_config(**{k: v for k, v in big_docker_config().items()})
    home.env.update(sso_service.env())
    return home


def env_for(home) -> dict[str, str]:
    return {**child_env(home), "PYTHONDONTWRITEBYTECODE": "1"}


def temp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def start_child(writer: Writer, home, mode: str) -> subprocess.Popen:
    child = subprocess.Popen([sys.executable, "-c", writer.code(), mode], env=env_for(home),
                             cwd=home.root, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    watchdog = threading.Timer(READY_TIMEOUT, child.kill)
    watchdog.daemon = True
    watchdog.start()
    child.watchdog = watchdog  # type: ignore[attr-defined]
    return child


def first_line(child: subprocess.Popen) -> str:
    line = child.stdout.readline().strip()
    child.watchdog.cancel()  # type: ignore[attr-defined]
    return line


@pytest.mark.parametrize("writer", WRITERS, ids=[w.name.split(" ")[0] for w in WRITERS])
def test_a_writer_killed_mid_write_never_leaves_a_broken_file(writers_home, writer):
    home = writers_home
    target = writer.target(home)
    rng = random.Random(7)
    reads = bad_reads = 0
    for _ in range(KILL_ROUNDS):
        child = start_child(writer, home, "loop")
        try:
            line = first_line(child)
            assert line == "ready", child.stderr.read()
            stop_at = time.monotonic() + rng.uniform(0.02, 0.3)
            while time.monotonic() < stop_at:  # read while it writes
                reads += 1
                bad_reads += not writer.valid(target.read_bytes())
            child.send_signal(signal.SIGKILL)
        finally:
            child.kill()
            child.communicate(timeout=30)
        assert child.returncode == -signal.SIGKILL
        assert writer.valid(target.read_bytes()), f"{target} broken after a kill"
        figures.add("file safety: writers killed mid-write")
    figures.add("file safety: reads during writes", reads)
    # A writer killed between creating its temp file and the rename cannot remove it; such
    # leftovers (hidden, ".<name>.*.tmp") are counted here, and the next write removes them
    # once they are 10 minutes old (test_temp_files_a_killed_writer_left_are_cleaned_up...).
    figures.add("file safety: temp files left by killed writers", len(temp_files(target.parent)))
    figures.add("file safety: broken files seen", bad_reads)
    assert bad_reads == 0
    expected_mode = ENTRY_MODE if writer is AUTOSTART else 0o600
    assert mode_of(target) == expected_mode
    figures.add("file safety: files checked")


@pytest.mark.parametrize("writer", WRITERS, ids=[w.name.split(" ")[0] for w in WRITERS])
def test_a_write_failing_midway_leaves_the_file_and_no_temp(writers_home, sso_service, writer):
    home = writers_home
    # A token under a minute from expiry is not usable: a failed refresh must then say so
    # (with more time left the app rightly keeps using the old token and says nothing).
    sso_service.switches.access_token_seconds = 30
    target = writer.target(home)
    child = start_child(writer, home, "limited")
    line = first_line(child)
    assert line == "written", child.stderr.read()
    before, before_mode = target.read_bytes(), mode_of(target)
    out, err = child.communicate("go\n", timeout=60)
    answer = json.loads(out.strip().splitlines()[-1])
    assert answer["raised"] == writer.failure, (answer, err)  # the write did fail, clearly
    if writer.failure != "OSError":
        assert str(target) in answer["text"] and "File too large" in answer["text"]
    assert "Traceback" not in err
    assert target.read_bytes() == before and mode_of(target) == before_mode
    assert temp_files(target.parent) == []
    assert writer.valid(before)
    figures.add("file safety: failed writes left intact")


@pytest.mark.parametrize("writer", WRITERS, ids=[w.name.split(" ")[0] for w in WRITERS])
def test_temp_files_a_killed_writer_left_are_cleaned_up_by_the_next_write(writers_home,
                                                                          writer):
    home = writers_home
    target = writer.target(home)
    target.parent.mkdir(parents=True, exist_ok=True)
    stale = target.parent / f".{target.name}.k1ll3d.tmp"
    fresh = target.parent / f".{target.name}.wr1t1ng.tmp"  # maybe another writer's, now
    for temp in (stale, fresh):
        temp.write_bytes(b'{"half": ')
    hour_ago = time.time() - 3600
    os.utime(stale, (hour_ago, hour_ago))
    child = subprocess.run([sys.executable, "-c", writer.code(), "once"], env=env_for(home),
                           cwd=home.root, capture_output=True, text=True, timeout=120)
    assert child.returncode == 0, child.stderr
    assert temp_files(target.parent) == [fresh.name]
    assert writer.valid(target.read_bytes())


# -- config.json: other tools' keys, mode, and files that did not parse ------------------
def test_a_direct_write_keeps_every_other_key_and_unknown_nested_keys(home):
    from tray_app.renew.store import write_docker_auth

    original = big_docker_config()
    home.docker_config(**original)
    home.docker_config_path.chmod(0o600)
    fresh = docker_auth(720)
    write_docker_auth(home.docker_config_path, HOST, fresh)
    after = json.loads(home.docker_config_path.read_text())
    expected = json.loads(json.dumps(original))
    expected["auths"][HOST]["auth"] = fresh
    assert after == expected  # every key, every nested unknown, the big int exactly
    assert mode_of(home.docker_config_path) == 0o600
    assert temp_files(home.docker_config_path.parent) == []


def test_a_new_config_json_is_0600_whatever_the_umask(home):
    from tray_app.renew.store import write_docker_auth

    previous = os.umask(0o022)
    try:
        write_docker_auth(home.docker_config_path, HOST, docker_auth(720))
    finally:
        os.umask(previous)
    assert mode_of(home.docker_config_path) == 0o600
    assert set(json.loads(home.docker_config_path.read_text())["auths"]) == {HOST}


UNPARSEABLE_CONFIGS = {
    "truncated": b'{"auths": {"' + HOST.encode() + b'": {"auth": "QVdTOnh',
    "empty": b"",
    "binary": bytes(range(256)) * 4,
    "UTF-16": '{"auths": {}}'.encode("utf-16"),
    "auths is a list": b'{"auths": []}',
    "top level is a list": b'[{"auths": {}}]',
    "NaN literal": b'{"auths": {}, "x": NaN}',
    "number out of range": b'{"auths": {}, "x": 1e400}',
    "only null": b"null",
}


@pytest.mark.parametrize("content", UNPARSEABLE_CONFIGS.values(), ids=UNPARSEABLE_CONFIGS)
def test_a_config_json_that_did_not_parse_is_never_overwritten(home, content):
    from tray_app.renew.store import write_docker_auth

    path = home.write_bytes(home.docker_config_path, content, mode=0o640)
    with pytest.raises(TrayAppError) as caught:
        write_docker_auth(path, HOST, docker_auth(720))
    assert str(path) in str(caught.value) and "not touched" in str(caught.value)
    assert path.read_bytes() == content and mode_of(path) == 0o640
    assert temp_files(path.parent) == []
    figures.add("file safety: unparseable files left alone")


def test_a_login_without_docker_keeps_the_whole_config(home, ecr_lab, tmp_path):
    """The real CLI: `login` writes config.json itself when there is no docker CLI."""
    bin_dir = tmp_path / "bin-without-docker"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(os.path.realpath(sys.executable))
    original = big_docker_config()
    home.docker_config(**original)
    result = home.run_cli("login", HOST, "--profile", "dev", PATH=str(bin_dir))
    assert result.returncode == 0, result.stdout + result.stderr
    after = json.loads(home.docker_config_path.read_text())
    fresh = after["auths"][HOST]["auth"]
    assert base64.b64decode(fresh).decode().partition(":")[2] in ecr_lab.issuer.passwords
    expected = json.loads(json.dumps(original))
    expected["auths"][HOST]["auth"] = fresh
    assert after == expected
    assert mode_of(home.docker_config_path) == 0o600
    assert temp_files(home.docker_config_path.parent) == []


def test_login_leaves_an_unparseable_config_json_alone(home, ecr_lab, tmp_path):
    bin_dir = tmp_path / "bin-without-docker"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(os.path.realpath(sys.executable))
    content = UNPARSEABLE_CONFIGS["truncated"]
    path = home.write_bytes(home.docker_config_path, content)
    result = home.run_cli("login", HOST, "--profile", "dev", PATH=str(bin_dir))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert path.read_bytes() == content and mode_of(path) == 0o600
    assert temp_files(path.parent) == []


# -- the SSO token cache ------------------------------------------------------------------
def test_a_silent_refresh_keeps_unknown_keys_and_0600(writers_home):
    from tray_app.renew import sso

    home = writers_home
    path = home.sso_cache_dir / f"{sha1_hex('corp')}.json"
    before = json.loads(path.read_text())
    assert sso.ensure_credentials("dev", allow_browser=False) == "refreshed"
    after = token_document(home, "corp")
    assert after["futureField"] == {"kept": [1, 2]}
    assert after["accessToken"] != before["accessToken"]
    assert mode_of(path) == 0o600
    assert temp_files(path.parent) == []


@pytest.mark.parametrize("content", [b'{"startUrl": "https://corp.awsapps.com/start", "acc',
                                     b"\x00\xff garbage", b"[]"],
                         ids=["truncated", "binary", "a list"])
def test_a_token_cache_that_did_not_parse_is_not_overwritten_silently(writers_home, content):
    from tray_app.renew import sso

    home = writers_home
    path = home.write_bytes(home.sso_cache_dir / f"{sha1_hex('corp')}.json", content)
    with pytest.raises(TrayAppError):
        sso.ensure_credentials("dev", allow_browser=False)
    assert path.read_bytes() == content and mode_of(path) == 0o600
    assert temp_files(path.parent) == []
    figures.add("file safety: unparseable files left alone")


# -- the app's own state files --------------------------------------------------------------
def test_state_files_are_0600_with_a_loose_umask_and_stay_0600(home):
    from datetime import UTC, datetime, timedelta

    from tray_app.alertstate import TrayState, load_tray_state, save_tray_state
    from tray_app.statefile import RecordedLogin, read_recorded_logins, record_logins

    now = datetime.now(UTC).replace(microsecond=0)
    previous = os.umask(0o022)
    try:
        record_logins(home.state_dir, [RecordedLogin(HOST, now + timedelta(hours=12), "dev",
                                                     now)])
        save_tray_state(home.state_dir, TrayState(frozenset({"login|x|docker|y|15"}), True))
        for name in ("logins.json", "tray.json"):
            assert mode_of(home.state_dir / name) == 0o600, name
        other = host("222222222222", "us-east-1")
        record_logins(home.state_dir, [RecordedLogin(other, now + timedelta(hours=1))])
        save_tray_state(home.state_dir, TrayState(frozenset(), False))
    finally:
        os.umask(previous)
    for name in ("logins.json", "tray.json"):
        assert mode_of(home.state_dir / name) == 0o600, name
    assert set(read_recorded_logins(home.state_dir)) == {HOST, other}  # merged, not replaced
    assert load_tray_state(home.state_dir).auto_renew is False
    assert temp_files(home.state_dir) == []


def test_autostart_entry_is_rewritten_atomically_with_its_mode(home):
    from tray_app import autostart

    autostart.enable()
    path = autostart.xdg_autostart_path()
    path.chmod(0o600)  # whatever it was, enabling again writes a complete entry, 0644
    autostart.enable()
    assert _desktop_entry_valid(path.read_bytes())
    assert mode_of(path) == ENTRY_MODE and not mode_of(path) & 0o022
    assert temp_files(path.parent) == []
    assert autostart.is_enabled()


RECORD_MANY = """
import sys
from datetime import UTC, datetime, timedelta
from tray_app.settings import Paths
from tray_app.statefile import RecordedLogin, record_logins
state_dir, tag = Paths.from_env().state_dir, sys.argv[1]
for i in range(int(sys.argv[2])):
    record_logins(state_dir, [RecordedLogin(f"{tag}{i:09d}.dkr.ecr.eu-west-1.amazonaws.com",
                                            datetime.now(UTC) + timedelta(hours=12))])
"""


def test_two_processes_recording_logins_at_once_lose_no_entry(home):
    """The tray's auto-renewal and a CLI `login` may record expiries at the same moment."""
    from tray_app.statefile import read_recorded_logins

    per_writer = 150
    children = [subprocess.Popen([sys.executable, "-c", RECORD_MANY, tag, str(per_writer)],
                                 env=env_for(home), cwd=home.root, stderr=subprocess.PIPE,
                                 text=True)
                for tag in ("111", "222")]
    for child in children:
        assert child.wait(timeout=120) == 0, child.stderr.read()
    recorded = read_recorded_logins(home.state_dir)
    figures.record("file safety: concurrent state records kept",
                   f"{len(recorded)} of {2 * per_writer}")
    assert len(recorded) == 2 * per_writer
    assert mode_of(home.state_dir / "logins.json") == 0o600
    assert temp_files(home.state_dir) == []
