"""`ecr-token-tray prompt init` in real bash, zsh and fish (Debian packages).

Each case writes a summary file as a snapshot would, evals the shell code that the real
entry point prints, empties PATH (any external command would then fail with an error on
stderr) and calls the prompt function. The segment must match tray_app/summary.py, and
strace (when present) must see no process started: no fork, vfork, clone of a process or
execve after the shell's own.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.builders import docker_auth, host
from tray_app.summary import SUMMARY_FILE, Summary, parse_summary, segment

SHELLS = ["bash", "zsh", "fish"]
DEV = host("222222222222", "eu-central-1")
RED, YELLOW = "31", "33"

# the function each shell defines, and how a test reads the segment it makes
SHOW = {
    "bash": '__ecr_token_tray_update; printf "%s" "$ECR_TOKEN_TRAY_PROMPT"',
    "zsh": '__ecr_token_tray_update; print -rn -- "$ECR_TOKEN_TRAY_PROMPT"',
    "fish": "ecr_token_tray_prompt",
}
EMPTY_PATH = {"bash": "PATH=", "zsh": "PATH=", "fish": "set PATH"}


@pytest.fixture(params=SHELLS)
def shell(request):
    if shutil.which(request.param) is None:
        pytest.fail(f"{request.param} is not installed; .ci/setup.sh installs it")
    return request.param


def summary_line(expires_in: int | None, generated_offset: int = 0, warning: int = 3600,
                 critical: int = 900) -> str:
    now = int(time.time())
    return Summary(generated_at=now + generated_offset,
                   expires_at=None if expires_in is None else now + expires_in,
                   warning_seconds=warning, critical_seconds=critical, worst="warning",
                   attention=1, label="222222222222 eu-central-1").line() + "\n"


def write_summary_file(home, text: str | bytes) -> Path:
    path = home.state_dir / SUMMARY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def init_code(home, shell: str) -> str:
    result = home.run_cli("prompt", "init", shell)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    return result.stdout


def run_prompt(home, shell: str, tmp_path: Path, colour: bool = False,
               calls: int = 1) -> subprocess.CompletedProcess:
    """Eval the init code, empty PATH, call the prompt function ``calls`` times."""
    script = tmp_path / f"prompt.{shell}"
    body = [init_code(home, shell), EMPTY_PATH[shell]]
    body += [SHOW[shell]] * calls
    script.write_text("\n".join(body) + "\n")
    argv = {"bash": ["bash", "--norc", "--noprofile"], "zsh": ["zsh", "-f"],
            "fish": ["fish", "--no-config"]}[shell]
    env = home.full_env()
    env.pop("NO_COLOR", None)
    if not colour:
        env["NO_COLOR"] = "1"
    return subprocess.run([*argv, str(script)], env=env, capture_output=True, text=True,
                          timeout=30, cwd=home.root)


def shown(home, shell, tmp_path, **kwargs) -> str:
    result = run_prompt(home, shell, tmp_path, **kwargs)
    assert result.stderr == "" and result.returncode == 0, result.stderr
    return result.stdout.strip()


def expected(line: str) -> str:
    return segment(parse_summary(line), int(time.time())).plain()


@pytest.mark.parametrize(("expires_in", "text"), [
    (-7200, "ECR expired"),
    (-1, "ECR expired"),
    (9 * 60 + 30, "ECR 9m!"),
    (45 * 60 + 30, "ECR 45m"),
    (59 * 60 + 30, "ECR 59m"),
    (3 * 3600, ""),  # fine beyond the warning window: nothing
    (None, ""),  # no watched login has an expiry
])
def test_countdown_matches_the_python_segment(home, shell, tmp_path, expires_in, text):
    line = summary_line(expires_in)
    write_summary_file(home, line)
    assert shown(home, shell, tmp_path) == text == expected(line)


def test_thresholds_come_from_the_summary(home, shell, tmp_path):
    write_summary_file(home, summary_line(100 * 60 + 30, warning=3 * 3600, critical=2 * 3600))
    assert shown(home, shell, tmp_path) == "ECR 1h!"


@pytest.mark.parametrize(("expires_in", "code"), [(-60, RED), (9 * 60 + 30, RED),
                                                  (45 * 60 + 30, YELLOW)])
def test_colours(home, shell, tmp_path, expires_in, code):
    write_summary_file(home, summary_line(expires_in))
    out = shown(home, shell, tmp_path, colour=True)
    if shell == "zsh":  # prompt escapes, expanded by zsh when it draws the prompt
        assert out.startswith("%F{red}" if code == RED else "%F{yellow}") and out.endswith("%f")
    else:
        assert f"\x1b[{code}m" in out
    if shell == "bash":  # readline's markers around the codes keep the cursor right
        assert f"\x01\x1b[{code}m\x02" in out and out.endswith("\x01\x1b[0m\x02")


def test_no_summary_yet_shows_nothing_and_starts_one_refresh(home, shell, tmp_path):
    home.docker_config({DEV: {"auth": docker_auth(30)}})
    assert shown(home, shell, tmp_path) == ""
    summary = wait_for_summary(home)
    assert summary.label == "222222222222 eu-central-1"
    assert 25 * 60 < summary.expires_at - time.time() <= 30 * 60


def test_a_stale_summary_is_marked_and_refreshed(home, shell, tmp_path):
    line = summary_line(45 * 60 + 30)
    path = write_summary_file(home, line)
    config = home.docker_config({DEV: {"auth": docker_auth(-5)}})  # `docker login` ran since
    os.utime(path, (time.time() - 60, time.time() - 60))
    assert shown(home, shell, tmp_path) == "ECR 45m?"
    fresh = wait_for_summary(home, newer_than=config.stat().st_mtime)
    assert fresh.expires_at < time.time()  # the refresh read the new login: expired
    assert shown(home, shell, tmp_path) == "ECR expired"


def test_a_summary_from_the_future_is_marked_stale(home, shell, tmp_path):
    write_summary_file(home, summary_line(45 * 60 + 30, generated_offset=3600))
    assert shown(home, shell, tmp_path) == "ECR 45m?"


def test_a_refresh_starts_once_per_change(home, shell, tmp_path):
    path = write_summary_file(home, summary_line(45 * 60 + 30, generated_offset=3600))
    marker = home.state_dir / ".prompt-refresh"
    written = path.stat().st_mtime
    shown(home, shell, tmp_path)  # stale: starts a refresh and stamps the marker
    assert marker.exists()
    wait_for_summary(home, newer_than=written)
    write_summary_file(home, summary_line(45 * 60 + 30, generated_offset=3600))
    past = time.time() - 30  # after every source file, before now
    os.utime(marker, (past, past))
    assert shown(home, shell, tmp_path) == "ECR 45m?"
    assert marker.stat().st_mtime == pytest.approx(past)  # no second refresh started


@pytest.mark.parametrize("content", [
    b"", b"\n", b"garbage\n", b"\x00\xff\xfe binary \x00\n", b"2 1 2 3 4 ok 0 x\n",
    b"1 abc 1796000000 3600 900 ok 0 x\n", b"1 1796000000 99999999999999999999 3600 900 ok 0 x\n",
    b"1 1796000000 -5 3600 900 ok 0 x\n", b"1 1796000000\n", b"1 $(touch pwned) 1 1 1 ok 0 x\n",
    b"x" * 100_000,
], ids=["empty", "blank", "garbage", "binary", "version", "letters", "overflow", "negative",
        "short", "injection", "huge"])
def test_a_corrupt_summary_shows_nothing_and_no_error(home, shell, tmp_path, content):
    write_summary_file(home, content)
    result = run_prompt(home, shell, tmp_path, colour=True)
    assert (result.returncode, result.stdout.strip(), result.stderr) == (0, "", "")
    assert not (tmp_path / "pwned").exists() and not (home.root / "pwned").exists()


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace not installed")
def test_no_process_is_started(home, shell, tmp_path):
    write_summary_file(home, summary_line(9 * 60 + 30))
    trace = tmp_path / "trace"
    script = tmp_path / f"prompt.{shell}"
    script.write_text("\n".join([init_code(home, shell), EMPTY_PATH[shell],
                                 *[SHOW[shell]] * 50]) + "\n")
    argv = {"bash": ["bash", "--norc"], "zsh": ["zsh", "-f"], "fish": ["fish", "--no-config"]}
    result = subprocess.run(
        ["strace", "-f", "-qq", "-e", "trace=execve,fork,vfork,clone,clone3", "-o", str(trace),
         *argv[shell], str(script)], env=home.full_env(), capture_output=True, text=True,
        timeout=60)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert result.stdout.count("ECR 9m!") == 50
    started = [line for line in trace.read_text().splitlines()
               if (re.search(r"\b(fork|vfork|clone3?)\(", line) and "CLONE_THREAD" not in line)
               or "execve(" in line]
    assert len(started) == 1 and "execve(" in started[0], started  # the shell itself only


def test_init_hooks_into_the_prompt_once(home, shell, tmp_path):
    """Evaluated twice (a re-sourced rc file), the hook is there once."""
    write_summary_file(home, summary_line(9 * 60 + 30))
    check = {
        "bash": "PROMPT_COMMAND=\nPS1='> '\n@INIT@\n"
                "[[ $PROMPT_COMMAND == __ecr_token_tray_update ]] &&"
                " [[ $PS1 == '${ECR_TOKEN_TRAY_PROMPT}> ' ]] && echo hooked",
        "zsh": 'PROMPT="%# "\n@INIT@\n[[ $precmd_functions == __ecr_token_tray_update ]] &&'
               ' [[ $PROMPT == \'${ECR_TOKEN_TRAY_PROMPT}%# \' ]] && echo hooked',
        "fish": "@INIT@\nfish_right_prompt; and echo; and echo hooked",
    }[shell].replace("@INIT@", init_code(home, shell) + "\n" + init_code(home, shell))
    script = tmp_path / f"hook.{shell}"
    script.write_text(check)
    argv = {"bash": ["bash", "--norc"], "zsh": ["zsh", "-f"], "fish": ["fish", "--no-config"]}
    result = subprocess.run([*argv[shell], str(script)], env=home.full_env(NO_COLOR="1"),
                            capture_output=True, text=True, timeout=30)
    assert result.stderr == ""
    expected_lines = ["ECR 9m!", "hooked"] if shell == "fish" else ["hooked"]
    assert result.stdout.split("\n")[:-1] == expected_lines


# a user's hook set before our init (e.g. starship) and one added after it (bash-preexec);
# the one before hands the status on, as well-behaved hooks do
USER_HOOKS = {
    "bash": ('before() { local s=$?; echo "before sees $s"; return $s; }\n'
             'PROMPT_COMMAND=before\n@INIT@\n'
             'PROMPT_COMMAND+=\'; echo "after sees $? [$ECR_TOKEN_TRAY_PROMPT]"\'\n'),
    "zsh": ('before() { echo "before sees $?"; }\nprecmd_functions=(before)\n@INIT@\n'
            'after() { echo "after sees $? [$ECR_TOKEN_TRAY_PROMPT]"; }\n'
            'precmd_functions+=(after)\n'),
}


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_prompt_hooks_still_see_the_commands_exit_status(home, shell, tmp_path):
    """Hooks before and after ours, in a real interactive shell, see `false`'s 1."""
    if shutil.which(shell) is None:
        pytest.fail(f"{shell} is not installed; .ci/setup.sh installs it")
    write_summary_file(home, summary_line(9 * 60 + 30))
    rc = tmp_path / f"rc.{shell}"
    rc.write_text(USER_HOOKS[shell].replace("@INIT@", init_code(home, shell)))
    argv = {"bash": ["bash", "--noprofile", "--norc", "-i"], "zsh": ["zsh", "-f", "-i"]}
    commands = f"source {shlex.quote(str(rc))}\nfalse\n(exit 3)\n"
    result = subprocess.run(argv[shell], input=commands, env=home.full_env(NO_COLOR="1"),
                            capture_output=True, text=True, timeout=30, cwd=home.root)
    seen = [line for line in result.stdout.splitlines() if " sees " in line]
    assert seen[-4:] == ["before sees 1", "after sees 1 [ECR 9m! ]",
                         "before sees 3", "after sees 3 [ECR 9m! ]"], result.stdout


_POSIX_STATUS = ("false; __ecr_token_tray_update; echo \"status $?\"\n"
                 "(exit 3); __ecr_token_tray_update; echo \"status $?\"")
STATUS_AFTER = {
    "bash": _POSIX_STATUS,
    "zsh": _POSIX_STATUS,
    "fish": "false; set -l seg (ecr_token_tray_prompt); echo \"status $status\"\n"
            "function exit3; return 3; end\n"
            "exit3; ecr_token_tray_prompt >/dev/null; echo \"status $status\"",
}


@pytest.mark.parametrize("content", ["segment", "quiet", "corrupt", "missing"])
def test_the_prompt_function_returns_the_status_it_was_called_with(home, shell, tmp_path,
                                                                    content):
    """A prompt that calls ours first still reads the last command's status."""
    if content != "missing":
        write_summary_file(home, {"segment": summary_line(9 * 60 + 30),
                                  "quiet": summary_line(3 * 3600),
                                  "corrupt": "garbage\n"}[content])
    script = tmp_path / f"status.{shell}"
    script.write_text("\n".join([init_code(home, shell), STATUS_AFTER[shell]]) + "\n")
    argv = {"bash": ["bash", "--norc"], "zsh": ["zsh", "-f"], "fish": ["fish", "--no-config"]}
    result = subprocess.run([*argv[shell], str(script)], env=home.full_env(NO_COLOR="1"),
                            capture_output=True, text=True, timeout=30, cwd=home.root)
    assert result.stderr == ""
    assert [line for line in result.stdout.splitlines() if line.startswith("status")] == [
        "status 1", "status 3"], result.stdout


def wait_for_summary(home, newer_than: float = 0.0, timeout: float = 30.0) -> Summary:
    """The summary the background refresh writes (it runs detached from the shell)."""
    path = home.state_dir / SUMMARY_FILE
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if path.stat().st_mtime > newer_than:
                summary = parse_summary(path.read_text())
                if summary is not None:
                    return summary
        except OSError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"no summary written to {path} within {timeout} s")


# PROMPT_COMMAND as users' bashrc leave it before our init: `history -a; history -n;
# $PROMPT_COMMAND` with nothing after it ends in "; ", some end in a newline, and bash 5.1+
# takes an array. The user's hook clears our variable: if ours runs last, the prompt shows
# the segment anyway.
USER_PROMPT_COMMANDS = {
    "trailing semicolon": 'PROMPT_COMMAND="history -a; history -n; mine; "',
    "trailing newline": "PROMPT_COMMAND=$'history -a\\nmine\\n'",
    "trailing comment": 'PROMPT_COMMAND="mine  # keep history in sync"',
    "array": "PROMPT_COMMAND=('history -a' mine)",
}


@pytest.mark.parametrize("setting", sorted(USER_PROMPT_COMMANDS))
def test_bash_init_keeps_the_user_s_prompt_command_working(home, tmp_path, setting):
    """Real interactive bash reading a bashrc: no syntax error, the user's hook runs, ours last."""
    write_summary_file(home, summary_line(9 * 60 + 30))
    rc = tmp_path / "bashrc"
    rc.write_text(
        "HISTFILE=" + shlex.quote(str(tmp_path / "history")) + "\n"
        'mine() { echo "mine ran"; ECR_TOKEN_TRAY_PROMPT="cleared "; }\n'
        + USER_PROMPT_COMMANDS[setting] + "\nPS1='> '\n" + init_code(home, "bash")
        + "\n" + init_code(home, "bash"))  # a bashrc sourced twice hooks once
    count = 'echo "ours: $(printf "%s\\n" "${PROMPT_COMMAND[@]}" | grep -c __ecr_token_tray)"'
    result = subprocess.run(["bash", "--noprofile", "--rcfile", str(rc), "-i"],
                            input=f"{count}\necho two\n", env=home.full_env(NO_COLOR="1"),
                            capture_output=True, text=True, timeout=30, cwd=home.root)
    assert "ours: 1" in result.stdout.splitlines(), result.stdout
    assert "syntax error" not in result.stderr and "command not found" not in result.stderr, \
        result.stderr
    assert result.stdout.splitlines().count("mine ran") == 3, result.stdout  # 3 prompts
    prompts = result.stderr.split("ECR 9m! > ")[1:]
    assert len(prompts) == 3 and "cleared" not in result.stderr, result.stderr
