"""`ecr-token-tray credhelper` with the REAL docker-credential-ecr-login (Debian's
amazon-ecr-credential-helper 0.6.0) in a temporary HOME.

What is real and what is stood in:
- real: the helper binary, the wrappers we write (run by /bin/sh), the docker CLI, the
  files; the helper reads ``~/.ecr/cache.json`` and ``~/.aws/credentials`` itself.
- stood in: AWS. Helper 0.6.0 predates ``AWS_ENDPOINT_URL_*`` (its AWS SDK is 1.17), so
  its API calls cannot be sent to a local endpoint; ``get`` is tested where it works
  without AWS: a fresh token in its own cache, written in its exact key layout
  (``<region>-<base64(access key id + md5(""))>-<account>``, see ``cache/build.go``),
  with a password the stand-in ECR issued, so the stand-in registry's ``GET /v2/``
  (reached under the real host name through the CONNECT proxy) accepts it.
  ``docker login`` after ``disable --login`` gets its token from the stand-in ECR API.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.builders import LEGACY_START_URL, SSO_START_URL, docker_auth, host, in_
from tests.stand_ins.registry import PROFILE_KEYS

pytestmark = pytest.mark.skipif(shutil.which("docker-credential-ecr-login") is None,
                                reason="needs docker-credential-ecr-login"
                                       " (Debian: amazon-ecr-credential-helper)")

DEV = host("222222222222", "eu-central-1")
DEV_2 = host("222222222222", "us-west-2")
OPS = host("333333333333", "us-west-2")
UNRELATED = {
    "psFormat": "table {{.ID}}\\t{{.Names}}",
    "currentContext": "default",
    "proxies": {"default": {"httpsProxy": "http://proxy.example:3128", "noProxy": "localhost"}},
    "plugins": {"debug": {"hooks": "exec"}},
    "detachKeys": "ctrl-e,e",
    "experimental": "enabled",
    "number": 12.5,
    "nested": [1, {"a": None, "b": [True, False]}],
}
PATH_HELPER = "/usr/bin:/bin"  # where Debian puts docker-credential-ecr-login


def user_files(home) -> dict:
    """Every file under HOME but the app's own log and state (``home.files()``)."""
    state = str(home.state_dir.parent.parent)  # ~/.local/state
    return {path: data for path, data in home.files().items()
            if not path.startswith(state)}


def config_document(home) -> dict:
    return json.loads(home.docker_config_path.read_text())


def local_bin(home) -> Path:
    return home.root / ".local" / "bin"


def path_env(home, *first: Path) -> str:
    """PATH as a user who followed the README has it: ~/.local/bin, then the system."""
    import os

    return os.pathsep.join([*map(str, first), str(local_bin(home)),
                            os.environ.get("PATH", PATH_HELPER)])


def helper_cache_key(access_key_id: str, region: str, account: str) -> str:
    """The key docker-credential-ecr-login 0.6 files a token under (cache/build.go:
    ``md5.New().Sum([]byte(id))`` appends the md5 of nothing to the id)."""
    checksum = base64.b64encode(access_key_id.encode() + hashlib.md5(b"").digest()).decode()
    return f"{region}-{checksum}-{account}"


def write_helper_cache(home, entries: list[tuple[str, str, str]]) -> Path:
    """~/.ecr/cache.json as the helper writes it: (profile, host, password) per entry."""
    from tray_app.hosts import parse_registry

    now = datetime.now(UTC).replace(microsecond=0)
    registries = {}
    for profile, registry_host, password in entries:
        ref = parse_registry(registry_host)
        key = helper_cache_key(PROFILE_KEYS[profile][0], ref.region, ref.account_id)
        registries[key] = {
            "AuthorizationToken": base64.b64encode(f"AWS:{password}".encode()).decode(),
            "RequestedAt": now.isoformat().replace("+00:00", "Z"),
            "ExpiresAt": (now + timedelta(hours=12)).isoformat().replace("+00:00", "Z"),
            "ProxyEndpoint": f"https://{registry_host}",
            "Service": "ecr",
        }
    return home.write_json(home.root / ".ecr" / "cache.json",
                           {"Registries": registries, "Version": "1.0"})


@pytest.fixture
def aws_profiles(home):
    """dev and ops as plain key profiles (no SSO), mapped to their registries in the app's
    config.toml as users map them."""
    home.aws_config("[profile dev]\nregion = eu-central-1\n\n[profile ops]\nregion = us-west-2\n")
    home.app_config("".join(f'[registries."{h}"]\nprofile = "{p}"\n'
                            for h, p in ((DEV, "dev"), (DEV_2, "dev"), (OPS, "ops"))))
    return home


# -- config.json: round trips, every other key kept, refusals --------------------------------
def test_enable_status_disable_round_trip_keeps_every_other_key_and_the_mode(home):
    original = {"auths": {DEV: {"auth": docker_auth(300), "email": "kept@example.com"},
                          "registry.example.com": {"auth": "dXNlcjpwYXNz"}},
                "credHelpers": {"gcr.io": "gcloud"}, **UNRELATED}
    home.write_json(home.docker_config_path, original)
    home.docker_config_path.chmod(0o600)

    enabled = home.run_cli("credhelper", "enable", DEV, "--no-verify", PATH=path_env(home))

    assert enabled.returncode == 0, enabled.stdout + enabled.stderr
    assert f"{DEV}: on ecr-login" in enabled.stdout
    after = config_document(home)
    expected = json.loads(json.dumps(original))
    expected["auths"][DEV] = {"email": "kept@example.com"}  # the stale plain login is gone
    expected["credHelpers"][DEV] = "ecr-login"
    assert after == expected
    assert stat.S_IMODE(home.docker_config_path.stat().st_mode) == 0o600
    assert not local_bin(home).exists()  # the default profile needs no wrapper

    status = home.run_cli("credhelper", "status", PATH=path_env(home))
    assert status.returncode == 0, status.stderr
    assert "docker-credential-ecr-login: /usr/bin/docker-credential-ecr-login" in status.stdout
    assert any(line.startswith(DEV) and "ecr-login" in line and "default" in line
               for line in status.stdout.splitlines()), status.stdout
    row = next(r for r in home.status_json()["registries"] if r["host"] == DEV)
    assert (row["source"], row["state"]) == ("ecr-login", "managed")

    disabled = home.run_cli("credhelper", "disable", DEV, PATH=path_env(home))

    assert disabled.returncode == 0, disabled.stdout + disabled.stderr
    assert f"{DEV}: no longer on ecr-login" in disabled.stdout
    assert f"ecr-token-tray login {DEV}" in disabled.stdout  # how to log in again
    expected["credHelpers"] = {"gcr.io": "gcloud"}
    assert config_document(home) == expected
    assert stat.S_IMODE(home.docker_config_path.stat().st_mode) == 0o600
    leftovers = [p.name for p in home.docker_config_path.parent.iterdir()]
    assert leftovers == ["config.json"]  # no temp file left behind


@pytest.mark.parametrize("content", [b"{\"auths\": {", b"\xff\xfe{}", b""],
                         ids=["truncated", "utf16", "empty"])
def test_an_unparseable_config_is_refused_and_nothing_changes(home, aws_profiles, content):
    home.write_bytes(home.docker_config_path, content)
    before = user_files(home)
    for action in ("enable", "disable"):
        result = home.run_cli("credhelper", action, DEV, "--profile", "dev",
                              PATH=path_env(home))
        assert result.returncode == 2, result.stdout + result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and str(home.docker_config_path) in lines[0], result.stderr
        assert "not touched" in lines[0] and "Traceback" not in result.stderr
        assert user_files(home) == before


def test_an_unreadable_config_is_refused_and_nothing_changes(home, aws_profiles):
    """A directory where config.json should be: unreadable even for root (the tests may
    run as root, for whom chmod 000 hides nothing)."""
    home.docker_config_path.mkdir(parents=True)
    before = user_files(home)
    result = home.run_cli("credhelper", "enable", DEV, "--profile", "dev", PATH=path_env(home))
    assert result.returncode == 2
    assert str(home.docker_config_path) in result.stderr and "not touched" in result.stderr
    assert user_files(home) == before


@pytest.fixture
def shared_home():
    """A HOME outside pytest's root-only temp folder, so `nobody` can run in it too."""
    import tempfile

    from tests.builders import FakeHome

    top = Path(tempfile.mkdtemp(prefix="ecr-tray-credhelper-"))
    top.chmod(0o755)
    yield FakeHome.create(top / "home")
    shutil.rmtree(top, ignore_errors=True)


def test_an_unreadable_config_file_is_refused(shared_home):
    """chmod 000; as root (who reads anything) the CLI runs as `nobody` through setpriv, with
    HOME handed to nobody, as tests/unit/test_bad_input_corpus.py does."""
    import os
    import pwd
    import subprocess
    import sys

    home = shared_home
    home.docker_config({DEV: {"auth": docker_auth(300)}})
    prefix: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: no way to make a file unreadable")
        nobody = pwd.getpwnam("nobody").pw_uid
        for path in [home.root, *home.root.rglob("*")]:
            os.lchown(path, nobody, nobody)
        prefix = ["setpriv", f"--reuid={nobody}", f"--regid={nobody}", "--clear-groups"]
    home.docker_config_path.chmod(0)
    before = user_files(home)
    result = subprocess.run([*prefix, sys.executable, "-m", "tray_app", "credhelper", "enable",
                             DEV, "--no-verify"], env=home.full_env(PATH=path_env(home)),
                            capture_output=True, text=True, timeout=60, cwd=home.root)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"{home.docker_config_path}: no permission to read it" in result.stderr
    assert "not touched" in result.stderr and "Traceback" not in result.stderr
    assert user_files(home) == before
    assert not local_bin(home).exists()


def test_without_the_helper_the_install_line_and_nothing_changes(home, tmp_path):
    home.docker_config({DEV: {"auth": docker_auth(300)}})
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    before = user_files(home)
    result = home.run_cli("credhelper", "enable", DEV, PATH=str(empty))
    assert result.returncode == 2
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1
    for text in ("docker-credential-ecr-login is not installed", "nothing changed",
                 "apt install amazon-ecr-credential-helper",
                 "brew install docker-credential-helper-ecr",
                 "github.com/awslabs/amazon-ecr-credential-helper/releases"):
        assert text in line, line
    assert user_files(home) == before
    status = home.run_cli("credhelper", "status", PATH=str(empty))
    assert "docker-credential-ecr-login: not installed - install it" in status.stdout


def test_creds_store_ecr_login_already_and_hosts_that_are_not_ecr(home):
    home.docker_config({DEV: {}}, credsStore="ecr-login")
    before = user_files(home)
    result = home.run_cli("credhelper", "enable", DEV, PATH=path_env(home))
    assert result.returncode == 2
    assert "`credsStore` is ecr-login already" in result.stderr
    assert "nothing to do" in result.stderr
    assert user_files(home) == before

    home.docker_config({"registry.example.com": {"auth": "dXNlcjpwYXNz"}})
    before = user_files(home)
    result = home.run_cli("credhelper", "enable", "registry.example.com", PATH=path_env(home))
    assert result.returncode == 1
    assert ("registry.example.com: not an Amazon ECR registry host - ecr-login serves only"
            " ECR") in result.stdout
    assert "nothing changed" in result.stdout
    assert user_files(home) == before


# -- per-profile wrappers ---------------------------------------------------------------------
RECORDER = """#!/bin/sh
# stand-in docker-credential-ecr-login: records how it was started, answers like the helper
{{ printf 'argv=%s\\n' "$*"; env; }} > "{record}"
read -r server
printf '{{"ServerURL":"%s","Username":"AWS","Secret":"stand-in-secret"}}\\n' "$server"
"""


def test_wrapper_content_mode_environment_and_argv(home, aws_profiles, tmp_path):
    home.docker_config({DEV: {"auth": docker_auth(300)}})
    result = home.run_cli("credhelper", "enable", DEV, "--no-verify", PATH=path_env(home))
    assert result.returncode == 0, result.stdout + result.stderr
    wrapper = local_bin(home) / "docker-credential-ecr-login-dev"
    assert f"profile dev through {wrapper}" in result.stdout
    assert f"{DEV}: not verified (--no-verify): Docker uses it without a check" in result.stdout
    assert config_document(home)["credHelpers"] == {DEV: "ecr-login-dev"}
    assert stat.S_IMODE(wrapper.stat().st_mode) == 0o755
    text = wrapper.read_text()
    assert text.startswith("#!/bin/sh\n# written by ecr-token-tray credhelper")
    assert "AWS_PROFILE=dev\nexport AWS_PROFILE\n" in text
    real = shutil.which("docker-credential-ecr-login", path=path_env(home))
    assert text.endswith(f'exec {real} "$@"\n')  # by absolute path: any PATH finds it

    # a recording stand-in in place of the helper, written into the wrapper by absolute
    # path (enabled with it first on PATH); Docker's call: `get`, the host on stdin
    fake_bin = tmp_path / "fake-bin"
    fake_bin.mkdir()
    record = tmp_path / "started.txt"
    fake = fake_bin / "docker-credential-ecr-login"
    fake.write_text(RECORDER.format(record=record))
    fake.chmod(0o755)
    home.docker_config({DEV: {"auth": docker_auth(300)}})
    again = home.run_cli("credhelper", "enable", DEV, "--no-verify",
                         PATH=path_env(home, fake_bin))
    assert again.returncode == 0, again.stdout + again.stderr
    assert wrapper.read_text().endswith(f'exec {fake} "$@"\n')
    import subprocess

    env = home.full_env(PATH=path_env(home), AWS_PROFILE="someone-else",
                        AWS_ACCESS_KEY_ID="AKIAEXAMPLEENVKEY001",
                        AWS_SECRET_ACCESS_KEY="envSecretKeyExample00000000000000000000")
    answer = subprocess.run(["docker-credential-ecr-login-dev", "get"], input=DEV, env=env,
                            capture_output=True, text=True, timeout=30)
    assert answer.returncode == 0, answer.stderr
    assert json.loads(answer.stdout)["Secret"] == "stand-in-secret"
    started = record.read_text().splitlines()
    assert started[0] == "argv=get"  # the host and any secret travel on stdin, never argv
    environment = dict(line.split("=", 1) for line in started[1:] if "=" in line)
    assert environment["AWS_PROFILE"] == "dev"
    assert "AWS_ACCESS_KEY_ID" not in environment  # keys in Docker's env must not win
    assert "AWS_SECRET_ACCESS_KEY" not in environment


def test_the_wrapper_goes_when_no_host_uses_it(home, aws_profiles):
    home.docker_config({DEV: {"auth": docker_auth(300)}, DEV_2: {"auth": docker_auth(300)}})
    result = home.run_cli("credhelper", "enable", "--all", "--no-verify", PATH=path_env(home))
    assert result.returncode == 0, result.stdout + result.stderr
    wrapper = local_bin(home) / "docker-credential-ecr-login-dev"
    assert config_document(home)["credHelpers"] == {DEV: "ecr-login-dev",
                                                     DEV_2: "ecr-login-dev"}

    first = home.run_cli("credhelper", "disable", DEV, PATH=path_env(home))
    assert first.returncode == 0 and "removed" not in first.stdout
    assert wrapper.exists()  # DEV_2 still uses it

    second = home.run_cli("credhelper", "disable", DEV_2, PATH=path_env(home))
    assert second.returncode == 0
    assert f"removed {wrapper} (no host uses it now)" in second.stdout
    assert not wrapper.exists()
    assert "credHelpers" not in config_document(home)


def test_moving_a_host_to_another_profile_drops_the_old_wrapper(home, aws_profiles):
    home.docker_config({DEV: {"auth": docker_auth(300)}})
    first = home.run_cli("credhelper", "enable", DEV, "--no-verify", PATH=path_env(home))
    assert first.returncode == 0, first.stdout + first.stderr
    moved = home.run_cli("credhelper", "enable", DEV, "--profile", "ops", "--no-verify",
                         PATH=path_env(home))
    assert moved.returncode == 0, moved.stdout + moved.stderr
    assert config_document(home)["credHelpers"] == {DEV: "ecr-login-ops"}
    assert sorted(p.name for p in local_bin(home).iterdir()) == [
        "docker-credential-ecr-login-ops"]
    again = home.run_cli("credhelper", "enable", DEV, "--profile", "ops", PATH=path_env(home))
    assert f"{DEV}: already on ecr-login-ops" in again.stdout and again.returncode == 0


def test_enable_writes_a_missing_wrapper_again(home, aws_profiles):
    """What `status` and `doctor` advise when a mapped wrapper is gone."""
    home.docker_config({DEV: {"auth": docker_auth(300)}})
    first = home.run_cli("credhelper", "enable", DEV, "--no-verify", PATH=path_env(home))
    assert first.returncode == 0, first.stdout + first.stderr
    wrapper = local_bin(home) / "docker-credential-ecr-login-dev"
    wrapper.unlink()
    again = home.run_cli("credhelper", "enable", DEV, "--no-verify", PATH=path_env(home))
    assert again.returncode == 0 and "already" not in again.stdout, again.stdout
    assert wrapper.is_file()
    assert config_document(home)["credHelpers"] == {DEV: "ecr-login-dev"}


def test_a_file_of_the_same_name_that_is_not_ours_is_left_alone(home, aws_profiles):
    home.docker_config({DEV: {"auth": docker_auth(300)}})
    theirs = local_bin(home) / "docker-credential-ecr-login-dev"
    theirs.parent.mkdir(parents=True)
    theirs.write_text("#!/bin/sh\necho mine\n")
    before = user_files(home)
    result = home.run_cli("credhelper", "enable", DEV, "--no-verify", PATH=path_env(home))
    assert result.returncode == 2
    assert "was not written by ecr-token-tray; nothing changed" in result.stderr
    assert user_files(home) == before


@pytest.mark.parametrize("profile", ["../evil", "a/b", "two words", "-dash", ".hidden",
                                     "x" * 65, "semi;colon", "quote'"])
def test_profile_names_that_cannot_be_file_names_are_refused(home, profile):
    home.docker_config({DEV: {"auth": docker_auth(300)}})
    before = user_files(home)
    result = home.run_cli("credhelper", "enable", DEV, f"--profile={profile}",
                          PATH=path_env(home))
    assert result.returncode == 2, result.stdout + result.stderr
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1 and "cannot be part of a file name" in line
    assert user_files(home) == before


def test_a_wrapper_folder_not_on_path_changes_nothing_and_says_what_to_do(home, aws_profiles):
    """Issue 18, defect 1: Docker could not run the wrapper, so the registry keeps its
    working plain login: config.json byte for byte, and no wrapper left behind."""
    home.docker_config({DEV: {"auth": docker_auth(300)}, OPS: {"auth": docker_auth(300)}})
    before = user_files(home)
    config_before = home.docker_config_path.read_bytes()

    result = home.run_cli("credhelper", "enable", DEV, PATH=PATH_HELPER)

    assert result.returncode == 1, result.stdout + result.stderr
    assert home.docker_config_path.read_bytes() == config_before
    assert user_files(home) == before  # the wrapper it wrote to check is gone again
    folder = local_bin(home)
    assert not folder.exists()  # and the folder it made for it
    (line,) = [line for line in result.stdout.splitlines() if line.startswith(DEV)]
    assert line == (f"{DEV}: not handed over to ecr-login-dev, nothing changed - {folder} is"
                    " not on PATH, so Docker cannot run docker-credential-ecr-login-dev - add"
                    f' it (e.g. `export PATH="{folder}:$PATH"` in ~/.profile, then a new'
                    " shell), or choose a folder on PATH with --wrapper-folder")
    assert result.stderr == ""

    # offline, the user may still want it: --no-verify hands over as before, and says so
    unchecked = home.run_cli("credhelper", "enable", DEV, "--no-verify", PATH=PATH_HELPER)
    assert unchecked.returncode == 0, unchecked.stdout + unchecked.stderr
    assert config_document(home)["credHelpers"] == {DEV: "ecr-login-dev"}
    assert f"{DEV}: not verified (--no-verify)" in unchecked.stdout
    assert f"note: {folder} is not on PATH" in unchecked.stdout


def test_wrappers_go_to_the_chosen_folder_never_into_the_apps_own(home, aws_profiles,
                                                                   tmp_path):
    """Issue 18, defect 2: run as an installed program from a writable folder (a venv's bin,
    which an upgrade or uninstall replaces), the wrapper still goes to ~/.local/bin; a folder
    chosen with --wrapper-folder or in config.toml wins."""
    import subprocess
    import sys

    app_bin = tmp_path / "venv-bin"
    app_bin.mkdir()
    program = app_bin / "ecr-token-tray"
    program.write_text(f"#!{sys.executable}\nimport sys\nfrom tray_app.cli import main\n"
                       "sys.exit(main())\n")
    program.chmod(0o755)
    home.docker_config({DEV: {"auth": docker_auth(300)}, OPS: {"auth": docker_auth(300)}})
    ran = subprocess.run([str(program), "credhelper", "enable", DEV, "--no-verify"],
                         env=home.full_env(PATH=path_env(home, app_bin)), capture_output=True,
                         text=True, timeout=60, cwd=home.root)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert sorted(p.name for p in app_bin.iterdir()) == ["ecr-token-tray"]
    assert (local_bin(home) / "docker-credential-ecr-login-dev").is_file()

    chosen = tmp_path / "my-bin"
    flag = home.run_cli("credhelper", "enable", OPS, "--no-verify", "--wrapper-folder",
                        str(chosen), PATH=path_env(home, chosen))
    assert flag.returncode == 0, flag.stdout + flag.stderr
    assert (chosen / "docker-credential-ecr-login-ops").is_file()
    home.app_config(f'[registries."{DEV}"]\nprofile = "dev"\n'
                    f'[registries."{OPS}"]\nprofile = "ops"\n'
                    f'[credhelper]\nwrapper_folder = "{chosen}"\n')
    listed = home.run_cli("credhelper", "status", PATH=path_env(home, chosen))
    assert any(line.startswith(OPS) and str(chosen) in line
               for line in listed.stdout.splitlines()), listed.stdout
    back = home.run_cli("credhelper", "disable", OPS, PATH=path_env(home, chosen))
    assert back.returncode == 0, back.stdout + back.stderr
    assert f"removed {chosen / 'docker-credential-ecr-login-ops'}" in back.stdout
    assert list(chosen.iterdir()) == []


# -- verification through the real helper -----------------------------------------------------
def test_enable_verifies_through_the_real_helper_and_the_registry(home, ecr_lab):
    """The wrapper pins profile dev: the REAL helper finds dev's cached token (keyed by dev's
    access key) and the stand-in registry accepts it. OPS is on the default profile, whose
    key has nothing cached, so the helper calls the ECR API - which it cannot reach here
    (the proxy tunnels only registry hosts) - and the check says so."""
    home.aws_config("[profile dev]\nregion = eu-central-1\n")
    home.app_config(f'[registries."{DEV}"]\nprofile = "dev"\n')
    password, _ = ecr_lab.issuer.issue("eu-central-1", "ecr")
    write_helper_cache(home, [("dev", DEV, password)])
    home.docker_config({DEV: {"auth": docker_auth(-30)}, OPS: {"auth": docker_auth(-30)}})
    cache_before = (home.root / ".ecr" / "cache.json").read_bytes()

    result = home.run_cli("credhelper", "enable", "--all", PATH=path_env(home), timeout=120)

    output = result.stdout + result.stderr
    assert f"{DEV}: verified" in result.stdout, output
    assert (f"{OPS}: not handed over to ecr-login, nothing changed - docker-credential-ecr-login"
            " got no token") in result.stdout
    assert result.returncode == 1
    assert ecr_lab.registry.accepted(DEV) == 1  # the app's GET /v2/ with the helper's answer
    assert password not in output and base64.b64encode(f"AWS:{password}".encode()).decode() \
        not in output
    # only the verified registry changed; OPS keeps its plain login
    assert config_document(home)["credHelpers"] == {DEV: "ecr-login-dev"}
    assert config_document(home)["auths"][OPS]["auth"]
    assert (home.root / ".ecr" / "cache.json").read_bytes() == cache_before  # read, not written

    # the real docker CLI asks the same wrapper for the credential, as `docker pull` would
    # (with no daemon here, it stops after reading it; the helper's log shows the cache hit)
    if shutil.which("docker"):
        import subprocess

        login = subprocess.run(["docker", "login", DEV], env=home.full_env(PATH=path_env(home)),
                               capture_output=True, text=True, timeout=60,
                               stdin=subprocess.DEVNULL)
        said = login.stdout + login.stderr
        assert "Authenticating with existing credentials... [Username: AWS]" in said, said
        assert password not in said
        helper_log = (home.root / ".ecr" / "log" / "ecr-login.log").read_text()
        assert helper_log.count('msg="Using cached token" registry=222222222222') == 2


# -- back to docker login ---------------------------------------------------------------------
def test_disable_login_logs_in_with_docker_at_once(home, ecr_lab, aws_profiles):
    if shutil.which("docker") is None:
        pytest.skip("needs the docker CLI")
    home.docker_config({DEV: {"auth": docker_auth(-30)}, **{}}, psFormat="kept")
    enabled = home.run_cli("credhelper", "enable", DEV, "--no-verify", PATH=path_env(home))
    assert enabled.returncode == 0, enabled.stdout + enabled.stderr

    result = home.run_cli("credhelper", "disable", DEV, "--login", PATH=path_env(home),
                          timeout=120)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "refreshed" in result.stdout and "verified (docker login)" in result.stdout
    document = config_document(home)
    assert "credHelpers" not in document and document["psFormat"] == "kept"
    from tests.integration.test_login_docker import registry_answer

    assert registry_answer(ecr_lab, DEV, document["auths"][DEV]["auth"]) == 200
    assert not (local_bin(home) / "docker-credential-ecr-login-dev").exists()
    row = next(r for r in home.status_json()["registries"] if r["host"] == DEV)
    assert (row["source"], row["state"], row["profile"]) == ("docker-config", "ok", "dev")
    key = PROFILE_KEYS["dev"][0]
    assert ecr_lab.endpoint.calls[("ecr", "eu-central-1", key)] == 1  # dev's keys were used


def test_disable_login_that_cannot_log_in_keeps_the_registry_on_ecr_login(home, aws_profiles):
    """Back is a transaction too: ECR cannot be reached (a closed port), so Docker gets no
    login, and the registry stays on its helper with its wrapper, as before."""
    from tests.stand_ins.ecr_endpoint import unreachable_url

    home.docker_config({DEV: {"auth": docker_auth(300)}}, psFormat="kept")
    enabled = home.run_cli("credhelper", "enable", DEV, "--no-verify", PATH=path_env(home))
    assert enabled.returncode == 0, enabled.stdout + enabled.stderr
    wrapper = local_bin(home) / "docker-credential-ecr-login-dev"
    closed = unreachable_url()

    result = home.run_cli("credhelper", "disable", DEV, "--login", PATH=path_env(home),
                          AWS_ENDPOINT_URL_ECR=closed, HTTPS_PROXY=closed,
                          AWS_ACCESS_KEY_ID="AKIAEXAMPLEBACKTEST1",
                          AWS_SECRET_ACCESS_KEY="backTestSecretKeyExample0000000000000000",
                          AWS_EC2_METADATA_DISABLED="true", timeout=120)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "failed" in result.stdout
    assert (f"{DEV}: stays on ecr-login-dev - its login with Docker did not work (above),"
            " so nothing changed") in result.stdout
    document = config_document(home)
    assert document["credHelpers"] == {DEV: "ecr-login-dev"} and document["psFormat"] == "kept"
    assert wrapper.is_file()
    assert "backTestSecretKeyExample" not in result.stdout + result.stderr


# -- the real helper all the way: SSO portal and ECR API stood in behind real host names ------
@pytest.fixture
def aws_apis_for_go(ecr_lab, sso_service, test_ca):
    """Route ``portal.sso.<region>.amazonaws.com`` and ``api.ecr.<region>.amazonaws.com``
    through the lab's CONNECT proxy to TLS fronts of the SSO and ECR stand-ins: the helper's
    Go SDK has no endpoint override, but it honours HTTPS_PROXY and SSL_CERT_FILE."""
    import re
    from contextlib import ExitStack
    from urllib.parse import urlparse

    from tests.stand_ins.tls_front import tls_front

    with ExitStack() as stack:
        for pattern, url in ((r"portal\.sso\.[a-z0-9-]+\.amazonaws\.com", sso_service.url),
                             (r"api\.ecr\.[a-z0-9-]+\.amazonaws\.com", ecr_lab.endpoint.url)):
            port = stack.enter_context(tls_front(urlparse(url).port, test_ca))
            ecr_lab.proxy.routes.append((re.compile(pattern), port))
        yield ecr_lab


# Two SSO profiles in the style Debian's helper 0.6.0 can use (each carries its start URL).
TWO_SSO_PROFILES = f"""\
[profile dev]
sso_start_url = {SSO_START_URL}
sso_region = eu-west-1
sso_account_id = 222222222222
sso_role_name = Developer
region = eu-central-1

[profile ops]
sso_start_url = {LEGACY_START_URL}
sso_region = us-east-1
sso_account_id = 333333333333
sso_role_name = Operator
region = us-west-2
"""


def test_three_registries_two_profiles_enable_all_then_disable_all_login(
        home, aws_apis_for_go, sso_service):
    """The issue's "done when", with the REAL helper (only AWS stood in): three registries
    under two SSO profiles; `enable --all` hands them all over with two wrappers and verifies
    each through the helper; Docker asks each registry's wrapper; `status` shows them managed
    with their SSO session's end; `disable --all --login` restores plain, working logins."""
    import subprocess

    from tests.integration.test_login_docker import registry_answer

    if shutil.which("docker") is None:
        pytest.skip("needs the docker CLI")
    lab = aws_apis_for_go
    home.aws_config(TWO_SSO_PROFILES)
    (home.root / ".aws" / "credentials").unlink()  # only SSO credentials from here on
    home.env.update(sso_service.env())
    corp_ends, legacy_ends = in_(360), in_(300)
    home.sso_token(SSO_START_URL, SSO_START_URL, corp_ends, refresh=False)
    home.sso_token(LEGACY_START_URL, LEGACY_START_URL, legacy_ends, refresh=False,
                   region="us-east-1")
    profiles = {host("222222222222", "eu-central-1"): "dev",
                host("222222222222", "us-east-1"): "dev",
                host("333333333333", "us-west-2"): "ops"}
    home.docker_config({h: {"auth": docker_auth(45)} for h in profiles},
                       psFormat="table {{.ID}}")
    path = path_env(home)

    enabled = home.run_cli("credhelper", "enable", "--all", PATH=path, timeout=180)

    assert enabled.returncode == 0, enabled.stdout + enabled.stderr
    for registry_host, profile in profiles.items():
        assert f"{registry_host}: on ecr-login-{profile} - profile {profile}" in enabled.stdout
        assert f"{registry_host}: verified" in enabled.stdout
        assert lab.registry.accepted(registry_host) == 1
    wrappers = sorted(p.name for p in local_bin(home).iterdir())
    assert wrappers == ["docker-credential-ecr-login-dev", "docker-credential-ecr-login-ops"]
    # each wrapper's profile reached its own account's role, once per registry asked
    assert sorted(sso_service.role_requests) == [("222222222222", "Developer")] * 2 + [
        ("333333333333", "Operator")]
    assert lab.endpoint.calls_by_region() == {"eu-central-1": 1, "us-east-1": 1,
                                              "us-west-2": 1}
    document = config_document(home)
    assert document["credHelpers"] == {h: f"ecr-login-{p}" for h, p in profiles.items()}
    assert all(document["auths"][h] == {} for h in profiles)  # stale plain logins gone
    assert document["psFormat"] == "table {{.ID}}"

    # `docker pull` takes its credential the way `docker login` without a password does
    # (no daemon here: Docker stops after asking). The helper's cache is keyed by the access
    # key, and SSO hands out new role keys each time, so each ask reaches "AWS" again.
    for registry_host in profiles:
        said = subprocess.run(["docker", "login", registry_host], env=home.full_env(PATH=path),
                              capture_output=True, text=True, timeout=60,
                              stdin=subprocess.DEVNULL)
        assert "[Username: AWS]" in said.stdout + said.stderr, said.stdout + said.stderr
    assert sorted(sso_service.role_requests) == [("222222222222", "Developer")] * 4 + [
        ("333333333333", "Operator")] * 2
    assert lab.endpoint.calls_by_region() == {"eu-central-1": 2, "us-east-1": 2,
                                              "us-west-2": 2}

    rows = {r["host"]: r for r in home.status_json(PATH=path)["registries"]}
    for registry_host, profile in profiles.items():
        row = rows[registry_host]
        assert (row["source"], row["state"], row["profile"]) == ("ecr-login", "managed", profile)
        ends = corp_ends if profile == "dev" else legacy_ends
        assert row["credentials_expire_at"] == ends.strftime("%Y-%m-%dT%H:%M:%SZ")
    table = home.run_cli("status", PATH=path).stdout
    assert f"SSO session {SSO_START_URL} ends" in table
    assert f"SSO session {LEGACY_START_URL} ends" in table
    listing = home.run_cli("credhelper", "status", PATH=path).stdout
    assert all(any(line.startswith(h) and f"ecr-login-{p}" in line for line in
                   listing.splitlines()) for h, p in profiles.items()), listing
    assert listing.count(f"SSO session {SSO_START_URL} ends") == 2  # the two dev registries

    disabled = home.run_cli("credhelper", "disable", "--all", "--login", PATH=path,
                            timeout=180)

    assert disabled.returncode == 0, disabled.stdout + disabled.stderr
    assert disabled.stdout.count("verified (docker login)") == 3, disabled.stdout
    assert list(local_bin(home).iterdir()) == []
    document = config_document(home)
    assert "credHelpers" not in document and document["psFormat"] == "table {{.ID}}"
    for registry_host in profiles:
        assert registry_answer(lab, registry_host, document["auths"][registry_host]["auth"]) \
            == 200
    rows = {r["host"]: r for r in home.status_json(PATH=path)["registries"]}
    assert {(r["source"], r["state"]) for r in rows.values()} == {("docker-config", "ok")}
    assert {h: r["profile"] for h, r in rows.items()} == profiles


def test_the_real_helper_gets_a_token_with_the_wrappers_sso_profile(home, aws_apis_for_go,
                                                                    sso_service):
    """Nothing stood in but AWS: wrapper -> REAL helper (profile ops, legacy SSO) -> the SSO
    portal stand-in (role credentials) -> the ECR API stand-in (a token for ops' account)
    -> the app's GET /v2/ at the stand-in registry."""
    from tests.builders import LEGACY_START_URL, SSO_PROFILES_CONFIG, in_

    lab = aws_apis_for_go
    home.aws_config(SSO_PROFILES_CONFIG)
    (home.root / ".aws" / "credentials").unlink()  # only SSO credentials
    home.env.update(sso_service.env())
    home.sso_token(LEGACY_START_URL, LEGACY_START_URL, in_(300), refresh=False,
                   region="us-east-1")
    home.docker_config({OPS: {"auth": docker_auth(-30)}})

    result = home.run_cli("credhelper", "enable", OPS, PATH=path_env(home), timeout=120)

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert f"{OPS}: on ecr-login-ops - profile ops" in result.stdout
    assert f"{OPS}: verified" in result.stdout
    assert sso_service.role_requests == [("333333333333", "Operator")]
    assert lab.endpoint.calls_by_region() == {"us-west-2": 1}
    assert lab.registry.accepted(OPS) == 1
    assert not any(secret in output for secret in lab.secrets() + sso_service.issued_secrets)
    helper_log = (home.root / ".ecr" / "log" / "ecr-login.log").read_text()
    assert 'msg="Calling ECR.GetAuthorizationToken" registry=333333333333' in helper_log
    # the helper cached the token itself; status reads its expiry from there
    row = next(r for r in home.status_json()["registries"] if r["host"] == OPS)
    assert (row["source"], row["profile"], row["state"]) == ("ecr-login", "ops", "managed")
    assert row["seconds_left"] > 11 * 3600 and row["credentials_expire_at"].endswith("Z")


def test_an_sso_session_profile_the_debian_helper_cannot_use_is_explained(home,
                                                                         aws_apis_for_go,
                                                                         sso_service):
    """Helper 0.6.0's AWS SDK predates `sso_session` profiles: it panics. The check says so."""
    from tests.builders import SSO_PROFILES_CONFIG, SSO_START_URL, in_

    home.aws_config(SSO_PROFILES_CONFIG)
    (home.root / ".aws" / "credentials").unlink()
    home.env.update(sso_service.env())
    home.sso_token("corp", SSO_START_URL, in_(300), refresh=False)
    home.docker_config({DEV: {"auth": docker_auth(-30)}})
    version = subprocess_output(["docker-credential-ecr-login", "-v"])
    if "0.6." not in version:
        pytest.skip(f"a newer helper ({version.split()[-3:]}) may support sso_session")

    before = user_files(home)
    config_before = home.docker_config_path.read_bytes()

    result = home.run_cli("credhelper", "enable", DEV, PATH=path_env(home), timeout=120)

    # Issue 18, defect 1: the helper cannot serve the profile, so nothing changes at all
    assert result.returncode == 1, result.stdout + result.stderr
    assert home.docker_config_path.read_bytes() == config_before
    assert {p: d for p, d in user_files(home).items() if "/.ecr" not in p} == {
        p: d for p, d in before.items() if "/.ecr" not in p}  # the helper logs to ~/.ecr
    assert not local_bin(home).exists()
    (line,) = [line for line in result.stdout.splitlines() if line.startswith(DEV)]
    assert line.startswith(f"{DEV}: not handed over to ecr-login-dev, nothing changed -"
                           " docker-credential-ecr-login-dev: this docker-credential-ecr-login"
                           " is too old for `sso_session` profiles")
    assert "give profile dev its own sso_start_url and sso_region" in line


def subprocess_output(argv: list[str]) -> str:
    import subprocess

    return subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout
