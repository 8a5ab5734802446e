"""Docker's credential-helper protocol (``docker-credential-NAME list|get|erase|store``),
with timeouts. ``erase`` and ``store`` serve `logout` (tray_app/service/logout.py) only."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from tray_app.errors import SourceError
from tray_app.hosts import host_of, parse_registry
from tray_app.model import FoundLogin
from tray_app.record import record
from tray_app.sources import Findings
from tray_app.sources.auth_file import login_from_password
from tray_app.sources.docker_config import DockerConfig, is_ecr_login
from tray_app.tokens import BasicCredential, json_type_name

HELPER_TIMEOUT_SECONDS = 5.0
MAX_OUTPUT_BYTES = 1024 * 1024
NOT_FOUND_MARKER = "credentials not found"


@record
class CredentialHelper:
    name: str  # "pass" for docker-credential-pass
    timeout: float = HELPER_TIMEOUT_SECONDS

    @property
    def program(self) -> str:
        return f"docker-credential-{self.name}"

    def list(self) -> dict[str, str]:
        """Server URL -> username for everything the store holds."""
        listing = self._call("list", "")
        if not isinstance(listing, dict):
            raise SourceError(f"{self.program} list: answered {json_type_name(listing)},"
                              " not a JSON object", "check the helper's version")
        return {str(url): str(user) for url, user in listing.items()}

    def get(self, server_url: str) -> BasicCredential | None:
        """The stored credential, or None when the store has none for that URL."""
        answer = self._call("get", server_url)
        if answer is None:
            return None
        if not isinstance(answer, dict) or not isinstance(answer.get("Secret"), str):
            raise SourceError(f"{self.program} get {server_url}: answer has no `Secret` string",
                              "check the helper's version")
        if not answer["Secret"]:
            return None  # docker-credential-pass 0.7 answers "not found" with an empty secret
        return BasicCredential(str(answer.get("Username", "")), answer["Secret"])

    def erase(self, server_url: str) -> bool:
        """Remove the store's login for ``server_url``, as `docker logout` does (stdin: the
        URL). False when the store held none."""
        return self._call("erase", server_url, answers=False) is not None

    def store(self, server_url: str, credential: BasicCredential) -> None:
        """Put ``credential`` back under ``server_url`` (a logout's undo); secret on stdin."""
        self._call("store", json.dumps({"ServerURL": server_url,
                                        "Username": credential.username,
                                        "Secret": credential.password}), answers=False)

    def _call(self, action: str, stdin: str, answers: bool = True) -> object:
        executable = shutil.which(self.program)
        if executable is None:
            raise SourceError(f"{self.program}: not found on PATH",
                              f"install it, or remove `{self.name}` from ~/.docker/config.json")
        try:
            result = run_bounded([executable, action], stdin.encode(), self.timeout)
        except subprocess.TimeoutExpired:
            raise SourceError(f"{self.program} {action}: no answer within {self.timeout:g} s",
                              "it may be waiting for a password prompt (gpg, keychain);"
                              " unlock it and retry") from None
        except OutputTooLarge:
            raise SourceError(f"{self.program} {action}: printed over"
                              f" {MAX_OUTPUT_BYTES // 2**20} MiB, stopped it",
                              "the helper is misbehaving; reinstall it") from None
        except OSError as error:
            raise SourceError(f"{self.program}: cannot run it ({error.strerror})",
                              "check that it is executable") from None
        if result.returncode != 0:
            message = _first_line(result.stdout or result.stderr)
            if NOT_FOUND_MARKER in message:
                return None
            raise HelperFailed(f"{self.program} {action}: failed (exit {result.returncode}:"
                               f" {message or 'no message'})", "run it by hand to see why",
                               message or f"exit {result.returncode}")
        if not answers:  # erase and store print nothing on success
            return True
        try:
            return json.loads(result.stdout)
        except (ValueError, RecursionError):
            # Never echo the output: it may hold a secret.
            raise SourceError(f"{self.program} {action}: printed something that is not JSON",
                              "check the helper's version, or run it by hand") from None


class HelperFailed(SourceError):
    """The helper ran and answered with an error (Docker Desktop's when it is not running).
    ``output``: its own error line, shortened and masked."""

    def __init__(self, title: str, hint: str, output: str) -> None:
        super().__init__(title, hint)
        self.output = output


class OutputTooLarge(Exception):
    """A helper printed more than ``max_output`` bytes; it was killed."""


def run_bounded(argv: list[str], stdin: bytes, timeout: float,
                max_output: int = MAX_OUTPUT_BYTES,
                env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run without a shell, reading at most ``max_output`` bytes per stream.

    On timeout (TimeoutExpired) or too much output (OutputTooLarge) the whole process
    group is killed, not just the child, so a helper printing gigabytes or waiting on a
    prompt costs neither memory nor a stuck thread.
    """
    deadline = time.monotonic() + timeout
    # Unbuffered pipes: closing one never waits on a reader thread's buffer lock.
    with subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, start_new_session=True, bufsize=0,
                          env=env) as process:
        overflow = threading.Event()
        readers = [_BoundedReader(pipe, max_output, overflow)
                   for pipe in (process.stdout, process.stderr)]
        try:
            _feed(process, stdin)
            for reader in readers:
                reader.join(max(0.0, deadline - time.monotonic()), overflow)
                if overflow.is_set():
                    raise OutputTooLarge(argv[0])
                if reader.is_alive():
                    raise subprocess.TimeoutExpired(argv, timeout)
            returncode = process.wait(max(0.0, deadline - time.monotonic()))
        except BaseException:
            _kill_group(process)
            process.wait(timeout=2)
            raise
        return subprocess.CompletedProcess(argv, returncode, readers[0].data, readers[1].data)


class _BoundedReader(threading.Thread):
    """Drain one pipe in the background, keeping at most ``limit`` bytes."""

    def __init__(self, pipe, limit: int, overflow: threading.Event) -> None:
        super().__init__(daemon=True)
        self.pipe, self.limit, self.overflow = pipe, limit, overflow
        self.data = b""
        self.start()

    def run(self) -> None:
        chunks, size = [], 0
        while chunk := self.pipe.read(65536):
            size += len(chunk)
            if size > self.limit:
                self.overflow.set()
                return
            chunks.append(chunk)
        self.data = b"".join(chunks)

    def join(self, timeout: float, overflow: threading.Event | None = None) -> None:
        # Wake up early when the other stream overflowed: no need to wait for the deadline.
        end = time.monotonic() + timeout
        while self.is_alive() and time.monotonic() < end and not (overflow and overflow.is_set()):
            super().join(min(0.05, max(0.0, end - time.monotonic())))


def _feed(process: subprocess.Popen, stdin: bytes) -> None:
    try:
        view = memoryview(stdin)
        while view:  # a server URL: far below any pipe buffer, so this never blocks long
            view = view[process.stdin.write(view):]
        process.stdin.close()
    except BrokenPipeError:
        pass  # the helper exited without reading; its exit code tells the story


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (AttributeError, ProcessLookupError, PermissionError):
        process.kill()


def _first_line(output: bytes) -> str:
    """The helper's own error line, shortened, with anything token-shaped masked."""
    text = output[:4096].decode("utf-8", "replace").strip()
    if not text:
        return ""
    from tray_app.logs import redact  # only on this error path: keeps `status` light

    return redact(text.splitlines()[0])[:160]


def get_many(helper: CredentialHelper, server_urls: list[str]
             ) -> dict[str, BasicCredential | SourceError | None]:
    """Ask for several URLs at once: each `get` may take a gpg or keychain round trip."""
    def ask(url: str) -> BasicCredential | SourceError | None:
        try:
            return helper.get(url)
        except SourceError as error:
            return error

    if len(server_urls) <= 1:
        return {url: ask(url) for url in server_urls}
    with ThreadPoolExecutor(max_workers=min(4, len(server_urls))) as pool:
        return dict(zip(server_urls, pool.map(ask, server_urls), strict=True))


def helper_logins(config: DockerConfig, source: str | None = None) -> Findings:
    """ECR logins held by ``credsStore`` or per-host ``credHelpers`` (ecr-login excluded).
    ``source``: the rows' source; None: the helper's program (``docker-credential-pass``)."""
    found = Findings()
    wanted: dict[str, list[str]] = {}  # helper name -> server URLs to `get`
    for host, name in config.cred_helpers.items():
        if not is_ecr_login(name) and parse_registry(host):
            wanted.setdefault(name, []).append(host)
    store = config.creds_store
    if store and not is_ecr_login(store):
        wanted.setdefault(store, []).extend(_store_urls(CredentialHelper(store), config, found,
                                                        source))
    for name, urls in wanted.items():
        helper = CredentialHelper(name)
        row_source = source or helper.program
        for url, answer in get_many(helper, urls).items():
            registry = parse_registry(url)
            if answer is None:
                if host_of(url) in config.cred_helpers:
                    found.logins.append(FoundLogin(
                        registry, row_source, helper.program, url,
                        detail=f"{helper.program} holds no login - run"
                               f" `ecr-token-tray login {registry.host}`"))
                continue
            if isinstance(answer, SourceError):
                found.problem(helper.program, str(answer))
                _note_failure(found, name, answer)
                found.logins.append(FoundLogin(registry, row_source, helper.program, url,
                                               detail=str(answer)))
                continue
            found.logins.append(login_from_password(
                registry, row_source, helper.program, url, answer.password))
    return found


def _store_urls(store: CredentialHelper, config: DockerConfig, found: Findings,
                source: str | None = None) -> list[str]:
    """The ECR URLs the store lists, except hosts a credHelpers entry serves instead."""
    try:
        listing = store.list()
    except SourceError as error:
        found.problem(store.program, str(error))
        _note_failure(found, store.name, error)
        # Docker keeps `auths: {host: {}}` placeholders: still show those rows.
        for host in config.ecr_hosts_in_auths():
            if host not in config.cred_helpers:
                found.logins.append(FoundLogin(parse_registry(host), source or store.program,
                                               store.program, host, detail=str(error)))
        return []
    return [url for url in listing
            if parse_registry(url) and host_of(url) not in config.cred_helpers]


def _note_failure(found: Findings, name: str, error: SourceError) -> None:
    """Remember a helper that ran and failed: the store diagnosis names it (tray_app.stores)."""
    if isinstance(error, HelperFailed):
        found.broken_helpers.setdefault(name, error.output)
