"""Browser sign-in with the AWS CLI v2: ``aws sso login`` as a child process.

Finds the ``aws`` on PATH and its version, runs the login with an argument list (no shell,
no secrets in argv), relays its output (the verification URL and code, redacted) as
progress, stops it on timeout or Ctrl+C, and turns its exit code into plain words.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import subprocess
import threading
from dataclasses import dataclass

from tray_app.logs import redact
from tray_app.platforms import aws_cli_places, is_windows
from tray_app.renew.errors import SsoLoginFailed
from tray_app.renew.sso_target import Progress, Target

log = logging.getLogger("tray_app.renew.sso")  # one logger for the whole SSO step

VERSION_TIMEOUT = 15.0
_AWS_VERSION = re.compile(r"aws-cli/(\d+)\.(\S+)")

# Exit codes of the AWS CLI v2 (see docs: "AWS CLI return codes").
EXIT_CANCELLED = 130
_EXIT_MEANING = {
    252: ("rejected its arguments (exit 252)", "update the AWS CLI v2, then run"
          " `ecr-token-tray login` again"),
    253: ("found a configuration problem (exit 253)", "check the profile with"
          " `aws configure sso`, then run `ecr-token-tray login` again"),
    254: ("was refused by the SSO service (exit 254)", "check the start URL and region in"
          " ~/.aws/config, then run `ecr-token-tray login` again"),
    255: ("failed (exit 255)", "run `ecr-token-tray login` again; `aws sso login --debug`"
          " shows the details"),
}


@dataclass(frozen=True)
class AwsCli:
    path: str
    major: int | None  # None: installed but its version could not be read
    version: str


def find_aws_cli(path_env: str | None = None, platform: str | None = None) -> AwsCli | None:
    """The `aws` first on PATH (Windows: aws.exe, through PATHEXT), else on Windows where the
    AWS CLI v2 installer puts it (a tray started at login may lack it on PATH), and its
    major version (runs `aws --version`)."""
    found = shutil.which("aws", path=path_env)
    if found is None and is_windows(platform):
        found = next((p for p in aws_cli_places(platform) if os.path.isfile(p)), None)
    return aws_cli_at(found) if found else None


def aws_cli_at(executable: str) -> AwsCli:
    try:
        result = subprocess.run([executable, "--version"], capture_output=True, text=True,
                                timeout=VERSION_TIMEOUT, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return AwsCli(executable, None, "unknown")
    match = _AWS_VERSION.search(f"{result.stdout}\n{result.stderr}")
    if not match:
        return AwsCli(executable, None, "unknown")
    return AwsCli(executable, int(match.group(1)), f"{match.group(1)}.{match.group(2)}")


def cli_sign_in(cli: AwsCli, target: Target, *, no_browser: bool, timeout: float,
                progress: Progress) -> None:
    """Run `aws sso login` for the target; raises SsoLoginFailed unless it exits 0."""
    argv = _login_argv(cli, target, no_browser)
    progress(f"Opening the browser to sign in to {target.session.name}..." if not no_browser
             else f"Sign in to {target.session.name} with the link below...")
    log.info("running %s", " ".join(argv[1:]))
    child = _start(argv, cli, target)
    lines: list[str] = []
    reader = threading.Thread(target=_relay_output, args=(child, lines, progress),
                              name="aws-sso-login-output", daemon=True)
    reader.start()
    code = _wait(child, reader, target, timeout)
    reader.join(timeout=5)
    if code == 0:
        progress(f"Signed in to {target.session.name}.")
        return
    raise _exit_error(code, lines, target)


def _login_argv(cli: AwsCli, target: Target, no_browser: bool) -> list[str]:
    if target.profile is not None:
        argv = [cli.path, "sso", "login", "--profile", target.profile]
    else:
        argv = [cli.path, "sso", "login", "--sso-session", target.session.name]
    if no_browser:
        argv.append("--no-browser")
    return argv


def _start(argv: list[str], cli: AwsCli, target: Target) -> subprocess.Popen:
    env = dict(os.environ)
    env.pop("AWS_PROFILE", None)  # --profile/--sso-session says which; a stale one breaks aws
    try:
        return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, errors="replace",
                                env=env, start_new_session=True)
    except OSError as error:
        raise SsoLoginFailed(f"SSO sign-in for {target.label}: cannot run {cli.path}"
                             f" ({error.strerror})", "reinstall the AWS CLI v2") from None


def _wait(child: subprocess.Popen, reader: threading.Thread, target: Target,
          timeout: float) -> int:
    """The child's exit code; stops it on timeout or Ctrl+C (SsoLoginFailed)."""
    try:
        return child.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _stop(child)
        reader.join(timeout=5)
        raise SsoLoginFailed(f"SSO sign-in for {target.label} timed out after"
                             f" {_duration(timeout)}",
                             "run `ecr-token-tray login` again and finish the sign-in in the"
                             " browser") from None
    except KeyboardInterrupt:
        _stop(child)
        raise SsoLoginFailed(f"SSO sign-in for {target.label} was cancelled",
                             "run ecr-token-tray login again") from None


def _exit_error(code: int, lines: list[str], target: Target) -> SsoLoginFailed:
    """Plain words for a non-zero exit of `aws sso login` (with its last output line)."""
    if code in (EXIT_CANCELLED, -2, -15):
        return SsoLoginFailed(f"SSO sign-in for {target.label} was cancelled",
                              "run ecr-token-tray login again")
    what, hint = _EXIT_MEANING.get(code, (f"failed (exit {code})",
                                          "run `ecr-token-tray login` again"))
    last = _last_line(lines)
    return SsoLoginFailed(f"SSO sign-in for {target.label}: `aws sso login` {what}"
                          + (f": {last}" if last else ""), hint)


def _relay_output(child: subprocess.Popen, lines: list[str], progress: Progress) -> None:
    """aws prints the verification URL and code (needed with --no-browser); never tokens."""
    assert child.stdout is not None
    for raw in child.stdout:
        line = redact(raw.rstrip())
        if line.strip():
            lines.append(line)
            progress(line)


def _stop(child: subprocess.Popen) -> None:
    with contextlib.suppress(OSError):
        child.terminate()
    try:
        child.wait(timeout=5)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(OSError):
            child.kill()
        child.wait(timeout=5)


def _last_line(lines: list[str]) -> str:
    for line in reversed(lines):
        if line.strip():
            return line.strip()[:200]
    return ""


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"
