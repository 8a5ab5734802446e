"""The prompt summary file: what every snapshot writes, atomically, and never at status's cost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from tests.builders import docker_auth, host, in_
from tests.desktop import wait_until
from tray_app.summary import SUMMARY_FILE, Summary, parse_summary, segment, span

DEV = host("222222222222", "eu-central-1")
OPS = host("333333333333", "us-west-2")
MANAGED = host("666666666666", "ap-south-1")


def summary_of(home) -> Summary:
    summary = parse_summary((home.state_dir / SUMMARY_FILE).read_text())
    assert summary is not None
    return summary


@pytest.fixture
def home_with_logins(home):
    """Two plain logins (9.5 and 44 minutes left) and a managed one that expires sooner."""
    home.docker_config({DEV: {"auth": docker_auth(44)}, OPS: {"auth": docker_auth(9.5)},
                        MANAGED: {}}, credHelpers={MANAGED: "ecr-login"})
    home.ecr_login_cache({MANAGED: in_(2)})
    return home


def test_status_writes_the_soonest_watched_login(home_with_logins):
    before = int(time.time())
    result = home_with_logins.run_cli("status", "--json")
    assert result.returncode == 0, result.stderr
    summary = summary_of(home_with_logins)
    assert summary.label == "333333333333 us-west-2"  # not the managed one (2 minutes)
    assert before + 9 * 60 <= summary.expires_at <= before + 10 * 60
    assert (summary.worst, summary.attention) == ("critical", 1)  # 44 min is warning only
    assert (summary.warning_seconds, summary.critical_seconds) == (3600, 900)
    assert before <= summary.generated_at <= time.time()
    rows = json.loads(result.stdout)["registries"]
    assert len(rows) == 3  # the --json contract is unchanged


def test_thresholds_follow_config_toml(home_with_logins):
    home_with_logins.app_config("[thresholds]\nwarning_minutes = 120\ncritical_minutes = 5\n")
    assert home_with_logins.run_cli("status").returncode == 0
    summary = summary_of(home_with_logins)
    assert (summary.warning_seconds, summary.critical_seconds) == (7200, 300)


def test_no_login_at_all(home):
    assert home.run_cli("status").returncode == 0
    summary = summary_of(home)
    assert (summary.expires_at, summary.worst, summary.attention, summary.label) == (
        None, "none", 0, "-")


def test_quiet_prints_nothing_and_keeps_the_exit_status(home_with_logins):
    result = home_with_logins.run_cli("status", "--quiet", "--check")
    assert (result.returncode, result.stdout, result.stderr) == (1, "", "")  # 9 min: critical
    assert summary_of(home_with_logins).attention == 1  # critical; warning is not attention


def test_a_failing_write_never_breaks_status(home_with_logins):
    (home_with_logins.state_dir / SUMMARY_FILE).mkdir(parents=True)  # cannot be replaced
    plain = home_with_logins.run_cli("status")
    as_json = home_with_logins.run_cli("status", "--json")
    assert (plain.returncode, plain.stderr, as_json.returncode, as_json.stderr) == (0, "", 0, "")
    assert "333333333333 us-west-2" in plain.stdout
    assert len(json.loads(as_json.stdout)["registries"]) == 3
    leftovers = [p.name for p in home_with_logins.state_dir.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_the_file_is_private_and_replaced_whole(home_with_logins):
    assert home_with_logins.run_cli("status").returncode == 0
    path = home_with_logins.state_dir / SUMMARY_FILE
    assert path.stat().st_mode & 0o777 == 0o600
    first = path.stat().st_ino
    assert home_with_logins.run_cli("status").returncode == 0
    assert path.stat().st_ino != first  # a new file renamed over the old one
    assert [p.name for p in home_with_logins.state_dir.iterdir() if p.name.endswith(".tmp")] == []


def test_readers_never_see_a_partial_file(home_with_logins):
    """A writer process replaces the file 300 times while this test reads it: every read
    is one whole line (never empty, never cut)."""
    assert home_with_logins.run_cli("status").returncode == 0
    path = home_with_logins.state_dir / SUMMARY_FILE
    writer = subprocess.Popen(
        [sys.executable, "-c",
         "from tray_app.service.snapshots import take\n"
         "for _ in range(300):\n    take()\n"],
        env=home_with_logins.full_env())
    reads = 0
    try:
        while writer.poll() is None:
            assert parse_summary(path.read_text()) is not None
            reads += 1
    finally:
        writer.wait(timeout=120)
    assert writer.returncode == 0 and reads > 0


def test_watch_once_writes_it_too(home_with_logins):
    result = home_with_logins.run_cli("watch", "--once", "--no-notify")
    assert result.returncode in (0, 1), result.stderr
    assert summary_of(home_with_logins).label == "333333333333 us-west-2"


@pytest.mark.parametrize("line", [
    "", "1", "2 1 2 3 4 ok 0 x", "1 a 2 3 4 ok 0 x", "1 1 2 3 4 ok 0", "1 -1 2 3 4 ok 0 x",
    "1 1 1234567890123 3 4 ok 0 x", "1 1 ２ 3 4 ok 0 x",
])
def test_what_is_not_a_summary(line):
    assert parse_summary(line) is None


def test_a_summary_reads_back():
    summary = Summary(1796000000, 1796003600, 3600, 900, "warning", 1, "222222222222 eu-west-1")
    assert summary.line() == "1 1796000000 1796003600 3600 900 warning 1 222222222222 eu-west-1"
    assert parse_summary(summary.line() + "\n") == summary
    assert parse_summary(summary._replace(expires_at=None).line()).expires_at is None


@pytest.mark.parametrize(("left", "text"), [
    (-1, "ECR expired"), (0, "ECR expired"), (30, "ECR 1m!"), (899, "ECR 14m!"),
    (900, "ECR 15m!"), (901, "ECR 15m"), (3600, "ECR 1h"), (3601, ""),
])
def test_segment(left, text):
    now = 1796000000
    summary = Summary(now, now + left, 3600, 900, "ok", 0, "x")
    assert segment(summary, now).text == text
    assert segment(summary, now, stale=True).plain() == (f"{text}?" if text else "")


def test_span():
    assert [span(s) for s in (1, 59, 60, 3599, 3600, 7300)] == ["1m", "1m", "1m", "59m", "1h",
                                                                "2h"]


def test_prompt_command_answers_at_once_and_refreshes_in_the_background(home_with_logins):
    path = home_with_logins.state_dir / SUMMARY_FILE
    first = home_with_logins.run_cli("prompt")  # no summary yet: nothing to show, one refresh
    assert (first.returncode, first.stdout, first.stderr) == (0, "", "")
    wait_until(lambda: path.exists() and parse_summary(path.read_text()), 30, "the refresh")
    assert home_with_logins.run_cli("prompt").stdout == "ECR 9m!\n"
    # an old summary that says all is fine, then `docker login` changes the Docker config:
    # the old one is shown as it is (nothing to show), and refreshed behind the prompt's back
    path.write_text(Summary(int(time.time()), None, 3600, 900, "ok", 0, "-").line() + "\n")
    os.utime(path, (time.time() - 60, time.time() - 60))
    os.utime(home_with_logins.docker_config_path)
    assert home_with_logins.run_cli("prompt").stdout == ""  # nothing expires: no segment
    wait_until(lambda: summary_of(home_with_logins).expires_at is not None, 30, "the refresh")
    assert home_with_logins.run_cli("prompt").stdout == "ECR 9m!\n"


def test_prompt_for_bars(home_with_logins):
    assert home_with_logins.run_cli("status", "--quiet").returncode == 0  # writes the summary
    waybar = json.loads(home_with_logins.run_cli("prompt", "--waybar").stdout)
    assert (waybar["text"], waybar["class"]) == ("ECR 9m!", "critical")
    assert home_with_logins.run_cli("prompt", "--tmux").stdout == "#[fg=red]ECR 9m!#[default]\n"


def test_prompt_prints_nothing_when_all_is_fine(home):
    home.docker_config({DEV: {"auth": docker_auth(300)}})
    result = home.run_cli("prompt")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_prompt_init_needs_a_shell(home):
    result = home.run_cli("prompt", "init")
    assert result.returncode == 2
    assert result.stderr.strip() == ('ecr-token-tray: `prompt init` needs a shell: bash, zsh or'
                                     ' fish - e.g. eval "$(ecr-token-tray prompt init bash)"')
