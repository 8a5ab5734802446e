"""The core stays light: no boto3, no GUI. Checked in a fresh interpreter, as users start it."""

import json
import subprocess
import sys

import pytest

from tests.builders import REPO_ROOT, docker_auth, host, in_

HEAVY = ["boto3", "botocore", "pystray", "plyer", "PIL", "gi", "Xlib", "dbus_fast"]  # tray only


def modules_after(code: str, env: dict | None = None) -> set[str]:
    probe = f"{code}\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, env=env)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_core_modules_import_no_heavy_library():
    core = ["model", "hosts", "tokens", "snapshot", "settings", "statefile", "errors",
            "sources.docker_config", "sources.cred_helper", "sources.ecr_login",
            "sources.podman", "sources.aws_config"]
    loaded = modules_after("\n".join(f"import tray_app.{name}" for name in core))
    assert {m.split(".")[0] for m in loaded} & set(HEAVY) == set()


def test_status_command_imports_no_heavy_library(home):
    code = ("import sys; sys.argv = ['ecr-token-tray', 'status', '--json']\n"
            "from tray_app import cli\n"
            "try:\n    cli.main()\nexcept SystemExit:\n    pass")
    loaded = modules_after(code, env=home.full_env())
    assert {m.split(".")[0] for m in loaded} & set(HEAVY) == set()


# The status path, pinned: every module `status` and `prompt` may import, for a HOME with
# every kind of file (Docker, Podman, ecr-login and its cache, AWS config with SSO and a
# cached token, config.toml, the app's state). Run with -S, so that no site hook (an
# editable install's finder, a .pth) hides or adds a module. A new import here costs every
# prompt, tmux line and git hook: extend the list only for something the output needs.
STATUS_PATH_STDLIB = {
    # the interpreter itself, before any import of ours
    "__future__", "__main__", "_abc", "_codecs", "_collections", "_collections_abc",
    "_frozen_importlib", "_frozen_importlib_external", "_functools", "_imp", "_io",
    "_operator", "_signal", "_sre", "_stat", "_thread", "_warnings", "_weakref", "abc",
    "builtins", "codecs", "collections", "collections.abc", "contextlib", "copyreg",
    "encodings", "encodings.aliases", "encodings.utf_8", "encodings.utf_8_sig", "enum",
    "errno", "functools", "genericpath", "importlib", "importlib._bootstrap",
    "importlib._bootstrap_external", "io", "itertools", "keyword", "marshal", "operator",
    "os", "os.path", "posix", "posixpath", "re", "re._casefix", "re._compiler",
    "re._constants", "re._parser", "reprlib", "stat", "sys", "time", "types", "warnings",
    "zipimport",
    # what the snapshot needs
    "_datetime", "datetime", "math",  # expiry times
    "_json", "json", "json.decoder", "json.encoder", "json.scanner",  # every credential file
    "binascii",  # docker `auth` values, ECR tokens (not base64: it imports struct)
    "configparser",  # ~/.aws/config
    "_sha1",  # the AWS CLI's SSO cache file name (hashlib would load OpenSSL)
    "tomllib", "tomllib._parser", "tomllib._re", "tomllib._types", "string", "_string",
    "typing", "_typing", "typing.io", "typing.re",  # tomllib's own: only with a config.toml
    "pathlib", "fnmatch", "ntpath", "urllib", "urllib.parse", "ipaddress",  # pathlib's own
}
STATUS_PATH_OURS = {
    "tray_app", "tray_app.cli", "tray_app.commands", "tray_app.commands.status",
    "tray_app.commands.prompt", "tray_app.errors", "tray_app.fileio", "tray_app.hosts",
    "tray_app.model", "tray_app.record", "tray_app.render",
    "tray_app.service", "tray_app.service.login_files", "tray_app.service.snapshots",
    "tray_app.settings", "tray_app.snapshot",
    "tray_app.sources", "tray_app.sources.auth_file", "tray_app.sources.aws_config",
    "tray_app.sources.docker_config", "tray_app.sources.ecr_login", "tray_app.sources.podman",
    "tray_app.statefile", "tray_app.summary", "tray_app.timeutil", "tray_app.tokens",
    # a config.json naming a credential helper: can its store hold an ECR login?
    "tray_app.stores", "tray_app.platforms",
}


def modules_of_command(home, *argv: str) -> set[str]:
    probe = ("import sys, io, contextlib\n"
             f"sys.argv = ['ecr-token-tray', *{list(argv)!r}]\n"
             "from tray_app import cli\n"
             "with contextlib.redirect_stdout(io.StringIO()):\n"
             "    code = cli.main()\n"
             "print(code, ' '.join(sorted(sys.modules)), file=sys.stderr)")
    env = home.full_env(PYTHONPATH=str(REPO_ROOT))
    run = subprocess.run([sys.executable, "-S", "-c", probe], capture_output=True, text=True,
                         env=env, check=True)
    code, _, names = run.stderr.strip().splitlines()[-1].partition(" ")
    assert code in ("0", "1"), run.stderr
    return set(names.split())


def test_the_status_path_imports_only_the_pinned_modules(home_with_every_source):
    allowed = STATUS_PATH_STDLIB | STATUS_PATH_OURS
    for argv in (["status", "--json"], ["status"], ["status", "--check"], ["prompt"]):
        loaded = modules_of_command(home_with_every_source, *argv)
        assert loaded - allowed == set(), f"{' '.join(argv)} imports more than it needs"
        assert "tray_app.summary" in loaded  # sanity: the probe ran the command
    home_with_every_source.config_toml.unlink()
    assert "typing" not in modules_of_command(home_with_every_source, "status", "--json")


@pytest.fixture
def home_with_every_source(home):
    auth = docker_auth(44)
    home.docker_config({host("222222222222"): {"auth": auth}, host("666666666666"): {}},
                       credHelpers={host("666666666666"): "ecr-login"})
    home.ecr_login_cache({host("666666666666"): in_(300)})
    home.podman_auth({host("333333333333", "us-west-2"): {"auth": auth}})
    home.aws_config("[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\n"
                    "sso_region = eu-west-1\n\n[profile dev]\nsso_session = corp\n"
                    "sso_account_id = 222222222222\nregion = eu-central-1\n")
    home.sso_token("corp", "https://corp.awsapps.com/start", in_(200))
    home.app_config("[thresholds]\nwarning_minutes = 90\n")
    home.write_json(home.state_dir / "logins.json", {"version": 1, "registries": {}})
    return home


def test_the_pinned_status_path_does_not_grow():
    """Issue 18 moved `status`'s work into the application layer (tray_app/service) and its
    rendering into tray_app/render.py: three modules of ours more, paid for by three of
    the standard library fewer (tokens decode with binascii, not base64 and struct)."""
    assert len(STATUS_PATH_STDLIB | STATUS_PATH_OURS) <= 112


def imports_of(path) -> set[str]:
    """The modules a source file imports (at any depth: lazy imports count too)."""
    import ast

    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def test_no_command_imports_another_command():
    """Commands are thin (parse -> the application layer -> render): what two of them
    share lives in tray_app/service or tray_app/render.py, never in a command."""
    folder = REPO_ROOT / "tray_app" / "commands"
    commands = {f"tray_app.commands.{p.stem}" for p in folder.glob("*.py")
                if p.stem != "__init__"}
    assert len(commands) >= 9  # sanity: the probe sees the commands
    for name in sorted(commands):
        path = folder / f"{name.rsplit('.', 1)[1]}.py"
        others = (imports_of(path) & commands) - {name}
        assert others == set(), f"{path.name} imports {sorted(others)}"
