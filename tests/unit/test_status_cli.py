"""`ecr-token-tray status` through the real entry point, on realistic HOME trees."""

import contextlib
import json
import re
from datetime import datetime

import pytest

from tests.builders import SSO_ACCESS_TOKEN, SSO_REFRESH_TOKEN, docker_auth, host, in_
from tray_app.errors import TokenError
from tray_app.tokens import decode_docker_auth

DEV = host("222222222222", "eu-central-1")
OPS = host("333333333333", "us-west-2")
MANAGED = host("666666666666", "ap-south-1")
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

REGISTRY_FIELDS = {"host": str, "account_id": (str, type(None)), "region": str,
                   "partition": str, "public": bool, "fips": bool, "source": str,
                   "expires_at": (str, type(None)), "seconds_left": (int, type(None)),
                   "state": str, "detail": str, "profile": (str, type(None)),
                   "credentials_expire_at": (str, type(None))}
SSO_FIELDS = {"name": str, "start_url": str, "region": str, "expires_at": (str, type(None)),
              "seconds_left": (int, type(None)), "state": str, "refreshable": bool,
              "profiles": list}
STATES = {"ok", "warning", "critical", "expired", "unknown", "managed"}

AWS_CONFIG = """
[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1

[profile dev]
sso_session = corp
sso_account_id = 222222222222
region = eu-central-1

[profile ops]
sso_start_url = https://legacy.awsapps.com/start
sso_region = us-east-1
sso_account_id = 333333333333
region = us-west-2
"""


@pytest.fixture
def home_with_every_layout(home):
    """Docker plain auths (historic keys), ecr-login with cache, Podman, SSO of both styles."""
    home.docker_config(
        {f"https://{DEV}": {"auth": docker_auth(44)}, f"{OPS}/v1/": {"auth": docker_auth(-121)},
         "https://index.docker.io/v1/": {"auth": docker_auth(600)}, MANAGED: {}},
        credHelpers={MANAGED: "ecr-login"})
    home.ecr_login_cache({MANAGED: in_(300)})
    home.podman_auth({f"{DEV}/team/app": {"auth": docker_auth(539)},
                      "public.ecr.aws/org/image": {"auth": docker_auth(9.5)}})
    home.aws_config(AWS_CONFIG)
    home.sso_token("corp", "https://corp.awsapps.com/start", in_(200))
    return home


def secrets_in(home) -> list[str]:
    """Every secret the tree holds: auth strings, ECR passwords, their payloads, SSO tokens."""
    found = [SSO_ACCESS_TOKEN, SSO_REFRESH_TOKEN, "client-secret-example"]
    for path in home.root.rglob("*.json"):
        text = path.read_text()
        for auth in re.findall(r'"(?:auth|AuthorizationToken)": "([^"]+)"', text):
            found.append(auth)
            with contextlib.suppress(TokenError):  # the undecodable one is there on purpose
                found.append(decode_docker_auth(auth).password)
    return found


def test_json_contract_field_names_and_types(home_with_every_layout):
    result = home_with_every_layout.run_cli("status", "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert list(document) == ["generated_at", "registries", "sso_sessions", "errors"]
    assert ISO_Z.match(document["generated_at"])
    for row in document["registries"]:
        assert list(row) == list(REGISTRY_FIELDS)
        for name, kind in REGISTRY_FIELDS.items():
            assert isinstance(row[name], kind), (name, row[name])
        assert row["state"] in STATES
        if row["expires_at"] is not None:
            assert ISO_Z.match(row["expires_at"])
    for session in document["sso_sessions"]:
        assert list(session) == list(SSO_FIELDS)
        for name, kind in SSO_FIELDS.items():
            assert isinstance(session[name], kind), (name, session[name])
    assert document["errors"] == []


def test_every_layout_is_reported_one_row_per_host_and_source(home_with_every_layout):
    document = home_with_every_layout.status_json()
    rows = {(r["host"], r["source"]): r for r in document["registries"]}
    assert set(rows) == {(DEV, "docker-config"), (OPS, "docker-config"),
                         (MANAGED, "ecr-login"), (DEV, "podman"), ("public.ecr.aws", "podman")}
    dev = rows[(DEV, "docker-config")]
    assert (dev["account_id"], dev["region"], dev["partition"], dev["public"], dev["fips"]) == (
        "222222222222", "eu-central-1", "aws", False, False)
    assert (dev["state"], dev["profile"]) == ("warning", "dev")
    ops = rows[(OPS, "docker-config")]
    assert ops["state"] == "expired" and ops["seconds_left"] < -2 * 3600 and ops["profile"] == "ops"
    assert rows[(MANAGED, "ecr-login")]["state"] == "managed"
    public = rows[("public.ecr.aws", "podman")]
    assert (public["account_id"], public["state"], public["profile"]) == (None, "critical", None)
    generated = datetime.fromisoformat(document["generated_at"].replace("Z", "+00:00"))
    expires = datetime.fromisoformat(dev["expires_at"].replace("Z", "+00:00"))
    assert abs((expires - generated).total_seconds() - dev["seconds_left"]) <= 1
    sessions = {s["name"]: s for s in document["sso_sessions"]}
    assert sessions["corp"]["refreshable"] is True and sessions["corp"]["profiles"] == ["dev"]
    legacy = sessions["https://legacy.awsapps.com/start"]
    assert (legacy["expires_at"], legacy["state"], legacy["profiles"]) == (None, "unknown",
                                                                           ["ops"])


def test_table_shows_the_time_left_words(home):
    home.docker_config({DEV: {"auth": docker_auth(11 * 60 + 2.5)}, OPS: {"auth": docker_auth(40.5)},
                        host("444444444444"): {"auth": docker_auth(-120.5)}})
    result = home.run_cli("status")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["REGISTRY", "SOURCE", "TIME", "LEFT", "STATE", "PROFILE"]
    table = "\n".join(lines)
    assert re.search(r"222222222222 eu-central-1\s+docker-config\s+11h 02m\s+ok\s+-", table)
    assert re.search(r"333333333333 us-west-2\s+docker-config\s+40m\s+warning", table)
    assert re.search(r"444444444444 eu-central-1\s+docker-config\s+expired 2h ago\s+expired",
                     table)


def test_table_shows_managed_cache_and_sso_sessions(home_with_every_layout):
    result = home_with_every_layout.run_cli("status")
    text = result.stdout
    assert re.search(r"666666666666 ap-south-1\s+ecr-login\s+4h 59m \(cached\)\s+managed", text)
    assert re.search(r"public.ecr.aws\s+podman\s+9m\s+critical", text)
    assert re.search(r"SSO SESSION\s+REGION\s+TIME LEFT\s+STATE\s+SILENT REFRESH\s+PROFILES", text)
    assert re.search(r"corp\s+eu-west-1\s+3h 19m\s+ok\s+yes\s+dev", text)
    assert re.search(r"https://legacy.awsapps.com/start\s+us-east-1\s+not signed in\s+unknown\s+no"
                     r"\s+ops", text)


def test_table_explains_unknown_rows(home):
    home.docker_config({DEV: {"auth": docker_auth(None)}})
    text = home.run_cli("status").stdout
    assert "carries no expiry" in text


def test_empty_home_prints_a_friendly_line(home):
    result = home.run_cli("status")
    assert result.returncode == 0 and "No ECR logins found" in result.stdout


@pytest.mark.parametrize(("minutes", "exit_code"), [(300, 0), (50, 0), (10, 1), (-5, 1)])
def test_check_exits_1_when_a_login_is_critical_or_expired(home, minutes, exit_code):
    home.docker_config({DEV: {"auth": docker_auth(minutes)}})
    assert home.run_cli("status", "--check").returncode == exit_code
    assert home.run_cli("status", "--check", "--json").returncode == exit_code


def test_check_ignores_managed_and_unknown_rows(home):
    home.docker_config({DEV: {"auth": docker_auth(None)}, MANAGED: {}},
                       credHelpers={MANAGED: "ecr-login"})
    home.ecr_login_cache({MANAGED: in_(-60)})
    assert home.run_cli("status", "--check").returncode == 0


def test_unreadable_source_exits_2_names_the_file_and_prints_the_rest(home):
    home.docker_config({DEV: {"auth": docker_auth(100)}})
    broken = home.podman_auth({OPS: {"auth": docker_auth(100)}})
    broken.write_text('{"auths": {"x": ')
    result = home.run_cli("status", "--json")
    assert result.returncode == 2
    document = json.loads(result.stdout)
    assert [r["host"] for r in document["registries"]] == [DEV]
    assert document["errors"] == [{"source": str(broken), "message": (
        f"{broken}: not valid JSON (line 1, column 17: Expecting value) - fix or remove the file")}]
    assert result.stderr.strip() == f"ecr-token-tray: {document['errors'][0]['message']}"
    table = home.run_cli("status")
    assert table.returncode == 2 and "222222222222 eu-central-1" in table.stdout
    assert str(broken) in table.stderr and "Traceback" not in table.stderr


def test_broken_config_toml_falls_back_to_defaults_and_exits_2(home):
    path = home.app_config("[thresholds]\nwarning_minutes = 'soon'\n")
    home.docker_config({DEV: {"auth": docker_auth(50)}})
    result = home.run_cli("status", "--json")
    assert result.returncode == 2
    document = json.loads(result.stdout)
    assert document["registries"][0]["state"] == "warning"  # default thresholds
    assert document["errors"][0]["source"] == str(path)
    assert str(path) in result.stderr and "warning_minutes" in result.stderr


@pytest.mark.parametrize(("ecr_host", "partition", "fips", "public"), [
    ("123456789012.dkr.ecr.us-west-2.amazonaws.com", "aws", False, False),
    ("123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com", "aws-us-gov", True, False),
    ("123456789012.dkr-ecr.us-west-2.on.aws", "aws", False, False),
    ("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", "aws-cn", False, False),
    ("123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu", "aws-eusc", False, False),
    ("123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov", "aws-iso", False, False),
    ("123456789012.dkr.ecr.us-isob-east-1.sc2s.sgov.gov", "aws-iso-b", False, False),
    ("123456789012.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk", "aws-iso-e", False, False),
    ("123456789012.dkr.ecr.us-isof-south-1.csp.hci.ic.gov", "aws-iso-f", False, False),
    ("public.ecr.aws", "aws", False, True),
    ("ecr-public.aws.com", "aws", False, True),
])
def test_every_ecr_host_form_through_the_cli(home, ecr_host, partition, fips, public):
    home.docker_config({f"https://{ecr_host}": {"auth": docker_auth(100)},
                        "ghcr.io": {"auth": docker_auth(100)},
                        "localhost:5000": {"auth": docker_auth(100)}})
    (row,) = home.status_json()["registries"]
    assert (row["host"], row["partition"], row["fips"], row["public"]) == (ecr_host, partition,
                                                                          fips, public)


def test_no_secret_in_any_output(home_with_every_layout):
    home = home_with_every_layout
    home.docker_config({DEV: {"auth": "bm90LWJhc2U2NA-!!"}, OPS: {"auth": docker_auth(10)}})
    secrets = secrets_in(home)
    assert len(secrets) > 6
    for args in (["status"], ["status", "--json"], ["status", "--check"], ["--debug", "status"]):
        result = home.run_cli(*args)
        output = result.stdout + result.stderr
        assert [s for s in secrets if s in output] == [], args


def test_status_writes_only_the_prompt_summary(home_with_every_layout):
    home = home_with_every_layout
    home.podman_auth({OPS: {"auth": 42}})  # a problem row too: still nothing else written
    before = home.files()
    for args in (["status"], ["status", "--json"], ["status", "--check"]):
        assert "Traceback" not in home.run_cli(*args).stderr
    after = home.files()
    summary = home.state_dir / "summary"
    made = {str(summary), *(str(p) for p in summary.parents if home.root in p.parents)}
    assert {k: v for k, v in after.items() if k not in made} == before
    assert sorted(p.name for p in home.state_dir.iterdir()) == ["summary"]


def test_a_reader_that_leaves_early_gets_no_error_line(home_with_every_layout):
    """`ecr-token-tray status | head -1`: the pipe closes before status writes; that is
    the reader's choice, not an internal error, and no traceback is shown."""
    import subprocess
    import sys

    home = home_with_every_layout
    child = subprocess.Popen([sys.executable, "-m", "tray_app", "status"],
                             env=home.full_env(), cwd=home.root, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    child.stdout.close()  # the reader is gone before the first row is written
    stderr = child.stderr.read()
    assert child.wait(timeout=60) == 141
    assert "internal error" not in stderr and "Traceback" not in stderr
    assert "BrokenPipeError" not in stderr
