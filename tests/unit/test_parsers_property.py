"""Property tests: whatever the input, parsers return or raise TrayAppError, nothing else.

Functions documented to return None on bad input (parse_registry, parse_time, from_epoch,
ecr_password_expiry) must never raise at all.
"""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import stat
import string
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import figures
from tray_app.errors import TrayAppError
from tray_app.hosts import RegistryRef, host_of, parse_registry
from tray_app.settings import Settings
from tray_app.sources.aws_config import SsoSessionConfig, load_aws_config, read_sso_token
from tray_app.sources.docker_config import file_logins, load_docker_config
from tray_app.sources.ecr_login import managed_hosts, read_cache_expiries
from tray_app.sources.podman import podman_logins
from tray_app.timeutil import from_epoch, iso_utc, parse_time
from tray_app.tokens import (
    b64decode_lenient,
    decode_docker_auth,
    ecr_password_expiry,
    make_authorization_token,
    make_ecr_password,
)

FAST = settings(max_examples=80, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])
FILES = settings(max_examples=60, deadline=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
anything = json_values | st.binary() | st.tuples(st.integers()) | st.just(object())

DOMAINS = ["amazonaws.com", "amazonaws.com.cn", "amazonaws.eu", "on.aws",
           "on.amazonwebservices.com.cn", "c2s.ic.gov", "sc2s.sgov.gov", "cloud.adc-e.uk",
           "csp.hci.ic.gov"]
regions = st.from_regex(r"\A[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]{4,9}-[1-9]\Z")


@st.composite
def ecr_hosts(draw) -> str:
    account = draw(st.from_regex(r"\A[0-9]{12}\Z"))
    separator = draw(st.sampled_from([".", "-"]))
    fips = draw(st.sampled_from(["", "-fips"]))
    return f"{account}.dkr{separator}ecr{fips}.{draw(regions)}.{draw(st.sampled_from(DOMAINS))}"


@st.composite
def config_keys(draw) -> str:
    """An ECR host in any form a config key takes: scheme, case, /v1/, a repository path."""
    host = draw(ecr_hosts() | st.sampled_from(["public.ecr.aws", "ecr-public.aws.com"]))
    scheme = draw(st.sampled_from(["", "https://", "http://", "HTTPS://"]))
    suffix = draw(st.sampled_from(["", "/", "/v1/", "/v2/", "/team/app", "/a/b/c"]))
    cased = host.upper() if draw(st.booleans()) else host
    return f"{scheme}{cased}{suffix}"


def only_our_error(call, *args):
    """Run ``call``; a TrayAppError is fine, anything else fails the property."""
    try:
        return call(*args)
    except TrayAppError as error:
        assert str(error)  # a message to show, always
        return None


# -- hosts -------------------------------------------------------------------------------

@FAST
@given(anything)
def test_parse_registry_never_raises(value):
    ref = parse_registry(value)
    assert ref is None or isinstance(ref, RegistryRef)
    if ref is not None:
        assert ref.host == host_of(value)


@FAST
@given(st.text())
def test_host_of_never_raises_and_has_no_slash(text):
    assert "/" not in host_of(text)


@FAST
@given(config_keys())
def test_every_ecr_key_form_is_recognised(key):
    ref = parse_registry(key)
    assert ref is not None
    assert ref.host == host_of(key) == ref.host.lower()
    assert ref.public == (ref.account_id is None)
    assert ref.partition.startswith("aws")


@FAST
@given(ecr_hosts(), st.text(alphabet=string.ascii_lowercase + ".", min_size=1, max_size=10))
def test_a_suffix_after_an_ecr_host_is_not_ecr(host, suffix):
    assert parse_registry(f"{host}.{suffix}x") is None


# -- tokens ------------------------------------------------------------------------------

@FAST
@given(anything)
def test_decode_docker_auth_raises_only_token_errors(value):
    only_our_error(decode_docker_auth, value)


@FAST
@given(st.text())
def test_b64decode_lenient_raises_only_token_errors(text):
    only_our_error(b64decode_lenient, text)


@FAST
@given(st.binary(), st.booleans(), st.booleans())
def test_b64decode_lenient_round_trips_every_spelling(data, url_safe, strip_padding):
    encoded = (base64.urlsafe_b64encode if url_safe else base64.b64encode)(data).decode()
    assert b64decode_lenient(encoded.rstrip("=") if strip_padding else encoded) == data


@FAST
@given(st.text() | st.binary().map(lambda b: base64.b64encode(b).decode())
       | json_values.map(lambda v: base64.b64encode(json.dumps(v).encode()).decode()))
def test_ecr_password_expiry_never_raises(password):
    expiry = ecr_password_expiry(password)
    assert expiry is None or expiry.tzinfo is not None


@FAST
@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2999, 1, 1),
                    timezones=st.just(UTC)), st.text(max_size=20))
def test_real_format_tokens_round_trip(moment, username):
    moment = moment.replace(microsecond=0)
    password = make_ecr_password(moment)
    credential = decode_docker_auth(make_authorization_token(password, username.replace(":", "")))
    assert credential.password == password
    assert ecr_password_expiry(credential.password) == moment


# -- times -------------------------------------------------------------------------------

@FAST
@given(anything | st.text(alphabet="0123456789-:TZ .+UTC", max_size=40))
def test_parse_time_never_raises(value):
    parsed = parse_time(value)
    assert parsed is None or parsed.utcoffset().total_seconds() == 0


@FAST
@given(anything | st.integers() | st.floats() | st.text(alphabet="0123456789.e-+", max_size=30))
def test_from_epoch_never_raises(value):
    moment = from_epoch(value)
    assert moment is None or moment.tzinfo is not None


@FAST
@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                    timezones=st.just(UTC)))
def test_iso_utc_round_trips_through_parse_time(moment):
    assert parse_time(iso_utc(moment)) == moment.replace(microsecond=0)


# -- settings ----------------------------------------------------------------------------

toml_scalars = st.integers(-5, 10**6) | st.booleans() | st.text(max_size=10) | st.floats(
    allow_nan=False)
toml_tables = st.dictionaries(
    st.sampled_from(["warning_minutes", "critical_minutes", "minutes_before", "automatic",
                     "profile", "ignore", "other"]),
    toml_scalars | st.lists(st.integers(-3, 200), max_size=4), max_size=4)
settings_documents = st.dictionaries(
    st.sampled_from(["thresholds", "notifications", "renew", "registries", "extra"]),
    toml_tables | toml_scalars
    | st.dictionaries(config_keys() | st.text(max_size=8), toml_tables | toml_scalars,
                      max_size=3),
    max_size=5)


@FAST
@given(settings_documents)
def test_settings_from_any_document_raise_only_our_error(document):
    loaded = only_our_error(Settings.from_document, document, Path("config.toml"))
    if loaded is not None:
        assert loaded.critical_minutes <= loaded.warning_minutes


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("property-files")


def write(path: Path, content: bytes | object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else json.dumps(content).encode())
    return path


file_bytes = st.binary(max_size=300) | st.text(max_size=200).map(str.encode)


@FILES
@given(file_bytes)
def test_settings_load_of_any_bytes(scratch, content):
    only_our_error(Settings.load, write(scratch / "config.toml", content))


# -- config files ------------------------------------------------------------------------

auth_values = (st.text(max_size=20) | st.integers() | st.none()
               | st.binary(max_size=40).map(lambda b: base64.b64encode(b).decode())
               | st.text(max_size=30).map(lambda t: base64.b64encode(t.encode()).decode()))
auth_entries = json_values | st.fixed_dictionaries(
    {}, optional={"auth": auth_values, "password": auth_values, "username": auth_values})
docker_documents = json_values | st.fixed_dictionaries({}, optional={
    "auths": json_values | st.dictionaries(config_keys() | st.text(max_size=10), auth_entries,
                                           max_size=4),
    "credsStore": json_values,
    "credHelpers": json_values | st.dictionaries(config_keys(), st.sampled_from(
        ["ecr-login", "", "x"]) | json_values, max_size=3),
})


@FILES
@given(docker_documents | file_bytes)
def test_docker_config_reader(scratch, content):
    path = write(scratch / "docker" / "config.json", content)
    config = only_our_error(load_docker_config, path)
    if config is not None:
        findings = file_logins(config)  # returns problems, never raises
        assert all(problem.message for problem in findings.problems)
        managed_hosts(config)


@FILES
@given(st.lists(docker_documents | file_bytes, min_size=1, max_size=3))
def test_podman_reader_never_raises(scratch, contents):
    paths = tuple(write(scratch / "podman" / f"auth{i}.json", c) for i, c in enumerate(contents))
    findings = podman_logins(paths)
    assert all(str(p.source) and p.message for p in findings.problems)


cache_documents = json_values | st.fixed_dictionaries({}, optional={
    "Registries": json_values | st.dictionaries(st.text(max_size=8), json_values
                                                | st.fixed_dictionaries({}, optional={
                                                    "ProxyEndpoint": config_keys() | json_values,
                                                    "ExpiresAt": st.text(max_size=30)
                                                    | json_values}), max_size=3)})


@FILES
@given(cache_documents | file_bytes)
def test_ecr_login_cache_reader(scratch, content):
    expiries = only_our_error(read_cache_expiries, write(scratch / "ecr" / "cache.json", content))
    assert expiries is None or all(isinstance(host, str) for host in expiries)


SESSION = SsoSessionConfig("corp", "https://corp.awsapps.com/start", "eu-west-1")
sso_documents = json_values | st.fixed_dictionaries({}, optional={
    "startUrl": st.just(SESSION.start_url) | json_values,
    "accessToken": st.text(max_size=10) | json_values,
    "expiresAt": st.text(max_size=30) | json_values,
    "refreshToken": json_values, "clientId": json_values, "clientSecret": json_values,
    "registrationExpiresAt": st.text(max_size=30) | json_values,
})


@FILES
@given(sso_documents | file_bytes, sso_documents | file_bytes)
def test_sso_cache_reader(scratch, keyed, other):
    cache = scratch / "sso-cache"
    write(cache / f"{SESSION.cache_key}.json", keyed)
    write(cache / "0123456789abcdef.json", other)
    token = only_our_error(read_sso_token, cache, SESSION)
    if token is not None:
        token.refreshable(datetime.now(UTC))


ini_lines = st.sampled_from([
    "[default]", "[profile dev]", "[profile  dev]", "[sso-session corp]", "[profile a]",
    "[sso-session]", "[profile]", "[", "]", "sso_session = corp", "sso_session = gone",
    "sso_start_url = https://corp.awsapps.com/start", "sso_region = eu-west-1",
    "sso_account_id = 222222222222", "role_arn = arn:aws:iam::333333333333:role/x",
    "source_profile = dev", "source_profile = a", "region = us-east-1", "  continued",
    "= novalue", "key", "# comment", "",
]) | st.text(max_size=20)


@FILES
@given(st.lists(ini_lines, max_size=15).map("\n".join) | file_bytes.map(
    lambda b: b.decode("latin-1")))
def test_aws_config_reader(scratch, text):
    path = scratch / "aws" / "config"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    config = only_our_error(load_aws_config, path)
    if config is not None:
        for profile in config.profiles.values():
            config.session_of(profile)  # chains may loop: must still end
            assert profile.account_id is None or len(profile.account_id) == 12


state_documents = json_values | st.fixed_dictionaries({}, optional={
    "version": json_values,
    "registries": json_values | st.dictionaries(config_keys() | st.text(max_size=8),
                                                json_values | st.fixed_dictionaries({}, optional={
                                                    "expires_at": st.text(max_size=30)
                                                    | json_values,
                                                    "profile": json_values,
                                                    "logged_in_at": json_values}), max_size=3)})


@FILES
@given(state_documents | file_bytes)
def test_state_file_reader(scratch, content):
    from tray_app.statefile import read_recorded_logins

    write(scratch / "state" / "logins.json", content)
    recorded = only_our_error(read_recorded_logins, scratch / "state")
    assert recorded is None or all(r.expires_at.tzinfo for r in recorded.values())


# -- everything at once ------------------------------------------------------------------

@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(docker_documents | file_bytes, docker_documents | file_bytes, cache_documents,
       sso_documents, st.lists(ini_lines, max_size=12).map("\n".join), settings_documents)
def test_a_snapshot_of_any_home_never_raises(home, monkeypatch, docker, podman, cache, sso,
                                             aws_text, settings_document):
    from tray_app.render import render_table, snapshot_json
    from tray_app.settings import Paths
    from tray_app.snapshot import take_snapshot

    monkeypatch.setenv("PATH", str(home.root / "no-helpers-here"))  # helpers: "not found"
    write(home.docker_config_path, docker)
    write(home.podman_auth_path, podman)
    write(home.root / ".ecr" / "cache.json", cache)
    write(home.sso_cache_dir / f"{SESSION.cache_key}.json", sso)
    (home.root / ".aws" / "config").write_text(
        "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\n"
        f"sso_region = eu-west-1\n{aws_text}", encoding="utf-8", errors="surrogatepass")
    loaded = only_our_error(Settings.from_document, settings_document, Path("config.toml"))
    snapshot = take_snapshot(Paths.from_env(), loaded or Settings())
    json.loads(snapshot_json(snapshot))
    render_table(snapshot)


# -- credhelper's edit of config.json: every unrelated key out unchanged --------------------
finite_json = st.recursive(
    st.none() | st.booleans() | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
config_keys = st.text(max_size=12).filter(lambda k: k not in ("auths", "credHelpers",
                                                              "credsStore"))
auth_keys = ecr_hosts() | ecr_hosts().map(lambda h: f"https://{h}/v1/") | st.text(max_size=20)


@st.composite
def config_with_a_target(draw) -> tuple[dict, str]:
    target = draw(ecr_hosts())
    auths = draw(st.dictionaries(auth_keys, st.dictionaries(st.text(max_size=8), finite_json,
                                                            max_size=3), max_size=4))
    if draw(st.booleans()):
        auths[draw(st.sampled_from([target, f"https://{target}"]))] = {
            "auth": "QVdTOnBhc3N3b3Jk", **draw(st.dictionaries(st.text(max_size=8),
                                                                finite_json, max_size=2))}
    helpers = draw(st.dictionaries(auth_keys.filter(lambda k: host_of(k) != target),
                                   st.text(min_size=1, max_size=10), max_size=3))
    document = {**draw(st.dictionaries(config_keys, finite_json, max_size=6)), "auths": auths}
    if helpers or draw(st.booleans()):
        document["credHelpers"] = helpers
    return document, target


def _unrelated(document: dict, target: str) -> dict:
    """Everything in a config.json that a hand-over of ``target`` must leave alone."""
    auths = document.get("auths", {})
    return {
        "top": {k: v for k, v in document.items() if k not in ("auths", "credHelpers")},
        "auths": {k: v for k, v in auths.items() if host_of(k) != target},
        "entries": {k: {f: x for f, x in v.items() if f != "auth"}
                    for k, v in auths.items() if host_of(k) == target},
        "helpers": {k: v for k, v in document.get("credHelpers", {}).items()
                    if host_of(k) != target},
    }


@pytest.mark.skipif(shutil.which("docker-credential-ecr-login") is None,
                    reason="enable checks for docker-credential-ecr-login first")
@FILES
@given(config_with_a_target())
def test_credhelper_edit_keeps_every_unrelated_key(scratch, case):
    from tray_app.credhelper import Target, disable
    from tray_app.service.handover import hand_over

    document, target = case
    folder = scratch / f"case-{next(_cases)}"
    folder.mkdir()
    path = folder / "config.json"
    path.write_text(json.dumps(document))
    path.chmod(0o640)
    hand_over(path, [Target(parse_registry(target), None)], folder / "bin", verify=False)
    handed = json.loads(path.read_text())
    assert _unrelated(handed, target) == _unrelated(document, target)
    assert handed["credHelpers"][target] == "ecr-login"
    assert all("auth" not in v for k, v in handed["auths"].items() if host_of(k) == target)
    disable(path, [target])
    back = json.loads(path.read_text())
    assert _unrelated(back, target) == _unrelated(document, target)
    assert target not in back.get("credHelpers", {})
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    figures.add("credhelper edits checked")


_cases = itertools.count()
