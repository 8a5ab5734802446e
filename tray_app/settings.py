"""Where things live (from the environment, read at call time) and the user's config file."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from tray_app import APP_NAME
from tray_app.errors import TrayAppError
from tray_app.hosts import host_of
from tray_app.record import record


@record
class Paths:
    """Where every file the app reads or writes lives."""

    home: Path
    docker_config: Path
    podman_auth_files: tuple[Path, ...]
    aws_config: Path
    sso_cache_dir: Path
    ecr_cache: Path
    config_file: Path
    state_dir: Path
    log_dir: Path
    kubeconfigs: tuple[Path, ...] = ()  # KUBECONFIG's files, else ~/.kube/config
    helm_registry_config: Path | None = None  # None: Windows without %APPDATA%

    @classmethod
    def from_env(cls) -> Paths:
        """Read the environment now (never at import time), so tests can point it anywhere."""
        env = os.environ
        home = user_home(env)
        config_dir, state_dir, log_dir = app_dirs(env, home)
        docker_dir = Path(env["DOCKER_CONFIG"]) if env.get("DOCKER_CONFIG") else home / ".docker"
        ecr_dir = Path(env["AWS_ECR_CACHE_DIR"]) if env.get("AWS_ECR_CACHE_DIR") else home / ".ecr"
        aws_config = env.get("AWS_CONFIG_FILE") or str(home / ".aws" / "config")
        config_file = env.get("ECR_TOKEN_TRAY_CONFIG") or str(config_dir / "config.toml")
        return cls(
            home=home,
            docker_config=docker_dir / "config.json",
            podman_auth_files=podman_auth_files(env, home),
            aws_config=Path(aws_config).expanduser(),
            sso_cache_dir=home / ".aws" / "sso" / "cache",
            ecr_cache=ecr_dir / "cache.json",
            config_file=Path(config_file).expanduser(),
            state_dir=state_dir,
            log_dir=log_dir,
            kubeconfigs=kubeconfig_files(env, home),
            helm_registry_config=_as_path(helm_registry_config(env, home)),
        )


def user_home(env: Mapping[str, str], platform: str | None = None) -> Path:
    """The home folder the tools we share files with use: ``$HOME`` on POSIX systems;
    ``%USERPROFILE%`` on Windows, where Docker, the AWS CLI and Python ignore ``HOME`` (which
    Git Bash and MSYS set, sometimes to another drive)."""
    variable = "USERPROFILE" if (platform or sys.platform) == "win32" else "HOME"
    return Path(env.get(variable) or Path.home())


def app_dirs(env: Mapping[str, str], home: Path) -> tuple[Path, Path, Path]:
    """The app's (config, state, log) folders, as platformdirs places them.

    On Linux these are three XDG rules; importing platformdirs for them would cost every
    `status` about 8 ms of start-up (see benchmarks/RESULTS.md).
    """
    if sys.platform.startswith("linux"):
        def xdg(variable: str, default: str) -> Path:
            value = env.get(variable, "")
            return Path(value if os.path.isabs(value) else home / default) / APP_NAME

        state = xdg("XDG_STATE_HOME", ".local/state")
        return xdg("XDG_CONFIG_HOME", ".config"), state, state / "log"
    from platformdirs import PlatformDirs

    dirs = PlatformDirs(APP_NAME, appauthor=False)
    return dirs.user_config_path, dirs.user_state_path, dirs.user_log_path


def kubeconfig_files(env: Mapping[str, str], home: Path) -> tuple[Path, ...]:
    """``KUBECONFIG`` (a path list, as kubectl splits it), else ``~/.kube/config``."""
    value = env.get("KUBECONFIG", "")
    if value:
        paths = [Path(p).expanduser() for p in value.split(os.pathsep) if p]
        return tuple(dict.fromkeys(paths))
    return (home / ".kube" / "config",)


def helm_registry_config(env: Mapping[str, str], home: Path | str,
                         platform: str | None = None) -> str | None:
    """Helm's registry login file, found as Helm 3 finds it (helm.sh/helm/v3 pkg/helmpath
    and `--registry-config`): ``HELM_REGISTRY_CONFIG``; else ``registry/config.json`` under
    ``HELM_CONFIG_HOME``; else under ``helm`` in ``XDG_CONFIG_HOME`` (on every OS, as Helm
    does) or the OS's own folder: ``~/.config`` (Linux), ``~/Library/Preferences`` (macOS),
    ``%APPDATA%`` (Windows). None on Windows with neither set. A string in the OS's own
    spelling, so tests on Linux can ask for the other two."""
    platform = platform or sys.platform
    if platform == "win32":
        import ntpath as flavour  # only there: posixpath is the one already loaded elsewhere
    else:
        import posixpath as flavour
    if env.get("HELM_REGISTRY_CONFIG"):
        return env["HELM_REGISTRY_CONFIG"]
    if env.get("HELM_CONFIG_HOME"):
        return flavour.join(env["HELM_CONFIG_HOME"], "registry", "config.json")
    base = env.get("XDG_CONFIG_HOME")
    if not base:
        if platform == "win32":
            base = env.get("APPDATA")
            if not base:
                return None
        elif platform == "darwin":
            base = flavour.join(str(home), "Library", "Preferences")
        else:
            base = flavour.join(str(home), ".config")
    return flavour.join(base, "helm", "registry", "config.json")


def _as_path(path: str | None) -> Path | None:
    return None if path is None else Path(path)


def podman_auth_files(env: Mapping[str, str], home: Path) -> tuple[Path, ...]:
    """Podman's auth files, most authoritative first."""
    if env.get("REGISTRY_AUTH_FILE"):
        return (Path(env["REGISTRY_AUTH_FILE"]),)
    candidates = []
    if sys.platform.startswith("linux") and env.get("XDG_RUNTIME_DIR"):
        candidates.append(Path(env["XDG_RUNTIME_DIR"]) / "containers" / "auth.json")
    config_home = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else home / ".config"
    candidates.append(config_home / "containers" / "auth.json")
    return tuple(dict.fromkeys(candidates))


def load_settings(paths: Paths) -> tuple[Settings, str | None]:
    """The user's settings, read the one way every part of the app reads them: a config
    file that cannot be used gives the defaults plus one line saying what is wrong (front
    ends show it: `status` as an unreadable source, the tray and `watch` under the table)."""
    try:
        return Settings.load(paths.config_file), None
    except TrayAppError as error:
        return Settings(), str(error)


TRAY_BACKENDS = ("auto", "native", "gtk", "appindicator", "xorg")


@record
class Settings:
    """The user's ``config.toml``; every key is optional."""

    warning_minutes: int = 60
    critical_minutes: int = 15
    notify_minutes: tuple[int, ...] = (60, 15, 0)
    auto_renew: bool = True
    profile_for_host: Mapping[str, str] = MappingProxyType({})
    ignored_hosts: frozenset[str] = frozenset()
    tray_backend: str = "auto"  # [tray] backend: auto | native | gtk | appindicator | xorg
    kubernetes: bool = True  # [kubernetes] enabled: look at local clusters' pull secrets
    kube_contexts: tuple[str, ...] = ()  # [kubernetes] contexts: non-local ones to include
    restart_failed_pulls: bool = False  # [kubernetes] delete ImagePullBackOff pods on renew
    wrapper_folder: Path | None = None  # [credhelper] wrapper_folder; None: ~/.local/bin
    public_auto_logout: bool = False  # [public_ecr] auto_logout: log out of a stale login

    @classmethod
    def load(cls, path: Path) -> Settings:
        """Read the config file; no file means defaults. Bad content raises TrayAppError."""
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return cls()
        except OSError as error:
            raise TrayAppError(f"{path}: cannot read ({error.strerror})",
                               "fix its permissions or remove it") from None
        import tomllib  # only when a config file exists: keeps `status` light

        try:
            document = tomllib.loads(raw.decode("utf-8-sig"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise TrayAppError(f"{path}: not valid TOML ({error})",
                               "fix the file; defaults are used meanwhile") from None
        return cls.from_document(document, path)

    @classmethod
    def from_document(cls, document: Mapping[str, object], path: Path) -> Settings:
        defaults = cls()
        thresholds = _table(document, "thresholds", path)
        alerts = _table(document, "notifications", path)
        renew = _table(document, "renew", path)
        registries = _table(document, "registries", path)
        tray = _table(document, "tray", path)
        profiles: dict[str, str] = {}
        ignored: set[str] = set()
        for key, entry in registries.items():
            if not isinstance(entry, dict):
                raise _bad(path, f"registries.{key!r} must be a table like"
                                 ' { profile = "dev" }')
            if not {"profile", "ignore"} & entry.keys():
                # `[registries.1111.dkr.ecr...]` without quotes: TOML splits the host at dots.
                raise _bad(path, f"[registries.{key}] has no `profile` or `ignore`; write the"
                                 ' host in quotes: [registries."<host>"]')
            host = host_of(key)  # `https://host/` works as well as the bare host
            if "profile" in entry:
                if not isinstance(entry["profile"], str) or not entry["profile"]:
                    raise _bad(path, f"registries.{key!r}.profile must be a profile name")
                profiles[host] = entry["profile"]
            if entry.get("ignore", False) is not False:
                if entry["ignore"] is not True:
                    raise _bad(path, f"registries.{key!r}.ignore must be true or false")
                ignored.add(host)
        warning = _minutes(thresholds, "warning_minutes", defaults.warning_minutes, path)
        critical = _minutes(thresholds, "critical_minutes", defaults.critical_minutes, path)
        if critical > warning:
            raise _bad(path, "thresholds.critical_minutes must not exceed warning_minutes")
        notify = alerts.get("minutes_before", list(defaults.notify_minutes))
        if not isinstance(notify, list) or not all(_is_minutes(n) for n in notify):
            raise _bad(path, "notifications.minutes_before must be a list of whole minutes >= 0")
        automatic = renew.get("automatic", defaults.auto_renew)
        if not isinstance(automatic, bool):
            raise _bad(path, "renew.automatic must be true or false")
        backend = tray.get("backend", defaults.tray_backend)
        if backend not in TRAY_BACKENDS:
            raise _bad(path, f"tray.backend must be one of {', '.join(TRAY_BACKENDS)}")
        kube = _table(document, "kubernetes", path)
        kube_contexts = kube.get("contexts", [])
        if not isinstance(kube_contexts, list) or not all(
                isinstance(c, str) and c for c in kube_contexts):
            raise _bad(path, 'kubernetes.contexts must be a list of context names, like'
                             ' ["staging"]')
        kube_flags = {key: kube.get(key, default) for key, default in
                      (("enabled", True), ("restart_failed_pulls", False))}
        for key, value in kube_flags.items():
            if not isinstance(value, bool):
                raise _bad(path, f"kubernetes.{key} must be true or false")
        public = _table(document, "public_ecr", path).get("auto_logout", False)
        if not isinstance(public, bool):
            raise _bad(path, "public_ecr.auto_logout must be true or false")
        return cls(
            public_auto_logout=public,
            wrapper_folder=_wrapper_folder(_table(document, "credhelper", path), path),
            warning_minutes=warning,
            critical_minutes=critical,
            notify_minutes=tuple(sorted(set(notify), reverse=True)),
            auto_renew=automatic,
            profile_for_host=profiles,
            ignored_hosts=frozenset(ignored),
            tray_backend=backend,
            kubernetes=kube_flags["enabled"],
            kube_contexts=tuple(dict.fromkeys(kube_contexts)),
            restart_failed_pulls=kube_flags["restart_failed_pulls"],
        )


def _wrapper_folder(table: dict, path: Path) -> Path | None:
    """``[credhelper] wrapper_folder``: where `credhelper enable` writes its wrappers."""
    value = table.get("wrapper_folder")
    if value is None:
        return None
    folder = Path(value).expanduser() if isinstance(value, str) and value else None
    if folder is None or not folder.is_absolute():
        raise _bad(path, "credhelper.wrapper_folder must be a folder's full path, like"
                         ' "~/bin" (one on the PATH Docker runs with)')
    return folder


def _table(document: Mapping[str, object], name: str, path: Path) -> dict:
    value = document.get(name, {})
    if not isinstance(value, dict):
        raise _bad(path, f"[{name}] must be a table")
    return value


def _is_minutes(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _minutes(table: dict, key: str, default: int, path: Path) -> int:
    value = table.get(key, default)
    if not _is_minutes(value):
        raise _bad(path, f"{key} must be a whole number of minutes >= 0")
    return value


def _bad(path: Path, what: str) -> TrayAppError:
    return TrayAppError(f"{path}: {what}", "fix the file; defaults are used meanwhile")
