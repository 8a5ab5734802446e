"""A stand-in `aws` executable (CLI v2 or v1) to put first on PATH.

``FakeAwsCli.install(directory)`` writes ``<directory>/bin/aws``, a small script that runs
this file with the test interpreter. It implements what ecr-token-tray uses:

- ``aws --version`` -> ``aws-cli/2.22.0 Python/3.12.6 ...`` (or ``aws-cli/1.x`` for v1).
- ``aws sso login [--profile P | --sso-session S] [--no-browser]`` (v2 only; v1 answers
  "Invalid choice" with exit 2, as CLI v1 does). It reads the config file
  (``$AWS_CONFIG_FILE``, else ``$HOME/.aws/config``) to find the session, and writes
  ``$HOME/.aws/sso/cache/<sha1>.json`` exactly as CLI v2 does (compact JSON, times as
  ``%Y-%m-%dT%H:%M:%SZ``, mode 0600, client registration cached next to it). When
  ``AWS_ENDPOINT_URL_SSO_OIDC`` is set it really runs the device authorization against that
  endpoint (tests.stand_ins.sso_endpoint), so the portal knows the token it issued;
  otherwise it mints the tokens itself.

Behaviour comes from the control file (``FakeAwsCli.set_mode``), overridden by the
``FAKE_AWS_MODE`` env var: ``succeed``, ``cancel`` (exit 130), ``fail`` (exit 255),
``service-error`` (exit 254), ``exit:N`` (exit N), ``hang`` (sleeps until killed), and
``delay`` seconds before answering. Every invocation's argv is appended to
``argv.jsonl`` (for the leak scan).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

V2_VERSION = "2.22.0"
V1_VERSION = "1.29.0"
CACHE_TIME = "%Y-%m-%dT%H:%M:%SZ"


@dataclass
class FakeAwsCli:
    root: Path
    major: int = 2

    @classmethod
    def install(cls, root: Path, major: int = 2) -> FakeAwsCli:
        fake = cls(root, major)
        fake.bin_dir.mkdir(parents=True, exist_ok=True)
        script = fake.bin_dir / "aws"
        script.write_text(
            "#!/bin/sh\n"
            f": \"${{FAKE_AWS_CONTROL:={fake.control_path}}}\"\n"
            "export FAKE_AWS_CONTROL\n"
            f"exec '{sys.executable}' '{Path(__file__).resolve()}' \"$@\"\n")
        script.chmod(0o755)
        fake.set_mode("succeed")
        return fake

    @property
    def bin_dir(self) -> Path:
        return self.root / "bin"

    @property
    def executable(self) -> Path:
        return self.bin_dir / "aws"

    @property
    def control_path(self) -> Path:
        return self.root / "control.json"

    @property
    def argv_log(self) -> Path:
        return self.root / "argv.jsonl"

    def set_mode(self, mode: str, delay: float = 0.0) -> None:
        self.control_path.write_text(json.dumps(
            {"mode": mode, "delay": delay, "major": self.major, "argv_log": str(self.argv_log)}))

    def path_with_fake_first(self, path: str | None = None) -> str:
        return os.pathsep.join([str(self.bin_dir), path if path is not None
                                else os.environ.get("PATH", "")])

    @property
    def invocations(self) -> list[list[str]]:
        if not self.argv_log.exists():
            return []
        return [json.loads(line) for line in self.argv_log.read_text().splitlines() if line]

    @property
    def sso_logins(self) -> list[list[str]]:
        return [argv for argv in self.invocations if argv[:2] == ["sso", "login"]]


# --------------------------------------------------------------------------------------
# The executable side
# --------------------------------------------------------------------------------------
def _control() -> dict:
    path = os.environ.get("FAKE_AWS_CONTROL")
    control = json.loads(Path(path).read_text()) if path and Path(path).exists() else {}
    if os.environ.get("FAKE_AWS_MODE"):
        control["mode"] = os.environ["FAKE_AWS_MODE"]
    return control


def _record(control: dict, argv: list[str]) -> None:
    if control.get("argv_log"):
        with open(control["argv_log"], "a", encoding="utf-8") as handle:
            handle.write(json.dumps(argv) + "\n")


def main(argv: list[str]) -> int:
    control = _control()
    _record(control, argv)
    major = int(control.get("major", 2))
    if argv[:1] == ["--version"]:
        version = V2_VERSION if major >= 2 else V1_VERSION
        extra = "exe/x86_64.debian.12" if major >= 2 else "botocore/1.31.0"
        print(f"aws-cli/{version} Python/3.12.6 Linux/6.1.0 {extra}")
        return 0
    if argv[:2] != ["sso", "login"] or major < 2:
        print("aws: error: argument operation: Invalid choice, valid choices are:\n\n"
              "get-role-credentials | list-account-roles | list-accounts | logout",
              file=sys.stderr)
        return 2
    return _sso_login(argv[2:], control)


def _sso_login(args: list[str], control: dict) -> int:
    options = _parse(args)
    if options is None:
        print("aws: error: unrecognized arguments", file=sys.stderr)
        return 252
    time.sleep(float(control.get("delay") or 0))
    mode = control.get("mode", "succeed")
    if mode == "hang":
        time.sleep(3600)
        return 255
    if mode == "cancel":
        print("", flush=True)
        return 130
    if mode == "fail":
        print("Error when retrieving token from sso: Token has expired and refresh failed",
              file=sys.stderr)
        return 255
    if mode == "service-error":
        print("An error occurred (InvalidRequestException) when calling the"
              " StartDeviceAuthorization operation: Invalid start URL", file=sys.stderr)
        return 254
    if mode.startswith("exit:"):  # any other exit code, e.g. exit:253 (configuration)
        print(f"aws: [ERROR]: simulated failure with exit {mode[5:]}", file=sys.stderr)
        return int(mode[5:])
    session = _session_config(options)
    if isinstance(session, str):
        print(session, file=sys.stderr)
        return 253
    token = _obtain_token(session, no_browser=options.get("no_browser", False))
    _write_cache(_cache_dir() / f"{_token_key(session)}.json", token)
    print(f"Successfully logged into Start URL: {session['start_url']}")
    return 0


def _parse(args: list[str]) -> dict | None:
    options: dict = {}
    iterator = iter(args)
    for arg in iterator:
        if arg == "--no-browser":
            options["no_browser"] = True
        elif arg in ("--profile", "--sso-session"):
            value = next(iterator, None)
            if value is None:
                return None
            options[arg[2:].replace("-", "_")] = value
        elif arg == "--use-device-code":
            options["device_code"] = True
        else:
            return None
    return options


def _config_sections() -> dict[str, dict[str, str]]:
    import configparser

    home = Path(os.environ.get("HOME", "~")).expanduser()
    path = Path(os.environ.get("AWS_CONFIG_FILE") or home / ".aws" / "config").expanduser()
    parser = configparser.RawConfigParser()
    parser.read(path)
    return {name: dict(parser.items(name)) for name in parser.sections()}


def _session_config(options: dict) -> dict | str:
    sections = _config_sections()
    if options.get("sso_session"):
        name = options["sso_session"]
        section = sections.get(f"sso-session {name}")
        if not section:
            return f"The specified sso-session does not exist: {name}"
        return _with_urls(section, name)
    name = options.get("profile") or os.environ.get("AWS_PROFILE") or "default"
    section = sections.get(name if name == "default" else f"profile {name}")
    if section is None:
        return f"The config profile ({name}) could not be found"
    if section.get("sso_session"):
        session = sections.get(f"sso-session {section['sso_session']}")
        if not session:
            return f"The specified sso-session does not exist: {section['sso_session']}"
        return _with_urls(session, section["sso_session"])
    if section.get("sso_start_url") and section.get("sso_region"):
        return _with_urls(section, None)
    return ("Missing the following required SSO configuration values: sso_start_url,"
            " sso_region")


def _with_urls(section: dict, session_name: str | None) -> dict | str:
    if not section.get("sso_start_url") or not section.get("sso_region"):
        return ("Missing the following required SSO configuration values: sso_start_url,"
                " sso_region")
    scopes = [s.strip() for s in section.get("sso_registration_scopes", "").split(",")
              if s.strip()]
    if session_name and not scopes:
        scopes = ["sso:account:access"]
    return {"name": session_name, "start_url": section["sso_start_url"],
            "region": section["sso_region"], "scopes": scopes or None}


def _cache_dir() -> Path:
    return Path(os.environ.get("HOME", "~")).expanduser() / ".aws" / "sso" / "cache"


def _token_key(session: dict) -> str:
    return hashlib.sha1((session["name"] or session["start_url"]).encode()).hexdigest()


def _registration_key(session: dict) -> str:
    args = {"tool": "botocore", "startUrl": session["start_url"], "region": session["region"],
            "scopes": session["scopes"], "session_name": session["name"]}
    return hashlib.sha1(json.dumps(args, sort_keys=True).encode()).hexdigest()


def _write_cache(path: Path, document: dict) -> None:
    """As botocore's JSONFileCache: temp file in the folder (mode 0600), fsync, rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as handle:
        handle.write(json.dumps(document))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)


def _now() -> datetime:
    return datetime.now(UTC)


def _obtain_token(session: dict, no_browser: bool) -> dict:
    endpoint = os.environ.get("AWS_ENDPOINT_URL_SSO_OIDC")
    registration, response = (_device_flow(endpoint, session, no_browser) if endpoint
                              else _minted(session))
    token = {
        "startUrl": session["start_url"],
        "region": session["region"],
        "accessToken": response["accessToken"],
        "expiresAt": (_now() + timedelta(seconds=response["expiresIn"])).strftime(CACHE_TIME),
        "clientId": registration["clientId"],
        "clientSecret": registration["clientSecret"],
        "registrationExpiresAt": registration["expiresAt"],
    }
    if response.get("refreshToken"):
        token["refreshToken"] = response["refreshToken"]
    return token


def _minted(session: dict) -> tuple[dict, dict]:
    registration = {"clientId": "client-" + secrets.token_urlsafe(12),
                    "clientSecret": "clientsecret-" + secrets.token_urlsafe(40),
                    "expiresAt": (_now() + timedelta(days=90)).strftime(CACHE_TIME)}
    response = {"accessToken": "aoaAAAAAG" + secrets.token_urlsafe(72), "expiresIn": 28800}
    if session["scopes"]:
        response["refreshToken"] = "aorAAAAAG" + secrets.token_urlsafe(72)
    return registration, response


def _post(endpoint: str, path: str, body: dict) -> tuple[int, dict]:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(endpoint.rstrip("/") + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, {"__type": error.headers.get("x-amzn-ErrorType", ""),
                            **json.loads(error.read() or b"{}")}


def _device_flow(endpoint: str, session: dict, no_browser: bool) -> tuple[dict, dict]:
    registration_path = _cache_dir() / f"{_registration_key(session)}.json"
    if registration_path.exists():
        registration = json.loads(registration_path.read_text())
    else:
        body = {"clientName": f"botocore-client-{session['name'] or int(time.time())}",
                "clientType": "public"}
        if session["scopes"]:
            body["scopes"] = session["scopes"]
        status, answer = _post(endpoint, "/client/register", body)
        if status != 200:
            raise SystemExit(_service_failure("RegisterClient", answer))
        registration = {"clientId": answer["clientId"], "clientSecret": answer["clientSecret"],
                        "expiresAt": datetime.fromtimestamp(answer["clientSecretExpiresAt"], UTC
                                                            ).strftime(CACHE_TIME)}
        if session["scopes"]:
            registration["scopes"] = session["scopes"]
        _write_cache(registration_path, registration)
    status, device = _post(endpoint, "/device_authorization", {
        "clientId": registration["clientId"], "clientSecret": registration["clientSecret"],
        "startUrl": session["start_url"]})
    if status != 200:
        raise SystemExit(_service_failure("StartDeviceAuthorization", device))
    if no_browser:
        print("Browser will not be automatically opened.\nPlease visit the following URL:\n\n"
              f"{device['verificationUri']}\n\nThen enter the code:\n\n{device['userCode']}\n",
              flush=True)
    else:
        print("Attempting to automatically open the SSO authorization page in your default"
              " browser.\nIf the browser does not open or you wish to use a different device"
              " to authorize this request, open the following URL:\n\n"
              f"{device['verificationUri']}\n\nThen enter the code:\n\n{device['userCode']}\n",
              flush=True)
    interval = device.get("interval", 5)
    while True:
        status, answer = _post(endpoint, "/token", {
            "clientId": registration["clientId"], "clientSecret": registration["clientSecret"],
            "grantType": "urn:ietf:params:oauth:grant-type:device_code",
            "deviceCode": device["deviceCode"]})
        if status == 200:
            return registration, answer
        kind = answer.get("__type", "")
        if kind == "SlowDownException":
            interval += 5
        elif kind != "AuthorizationPendingException":
            raise SystemExit(_service_failure("CreateToken", answer))
        time.sleep(interval)


def _service_failure(operation: str, answer: dict) -> int:
    print(f"An error occurred ({answer.get('__type', 'Unknown')}) when calling the {operation}"
          f" operation: {answer.get('message', '')}", file=sys.stderr)
    return 254


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
