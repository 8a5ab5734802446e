"""`ecr-token-tray prompt` (starship, tmux, waybar) never waits for a refresh (issue 18,
defect 6): a stale summary is shown at once, and refreshed by one detached `status --quiet`.

The slow part is a credential helper stand-in on PATH that answers only when the test lets
it, so "the prompt returned while the refresh was still running" is an observed fact, not
a timing: the helper is still waiting when the prompt's output is already read."""

from __future__ import annotations

import json
import os
import time

from tests.builders import ecr_password, host
from tests.desktop import wait_until
from tray_app.summary import SUMMARY_FILE, Summary, parse_summary

SLOW = host("777777777777", "eu-west-1")


def slow_helper(home, calls, release):
    """docker-credential-slow: records each `get` (its pid), then waits for ``release``."""
    secret = ecr_password(300)  # a fresh 5-hour login, once the helper answers
    home.credential_helper("slow", f"""read -r url
echo $$ >> '{calls}'
while [ ! -e '{release}' ]; do sleep 0.05; done
printf '%s' '{json.dumps({"ServerURL": SLOW, "Username": "AWS", "Secret": secret})}'
""")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_stale_summary_is_shown_at_once_and_refreshed_behind_the_prompt(home, tmp_path):
    calls, release = tmp_path / "helper-calls", tmp_path / "release"
    slow_helper(home, calls, release)
    summary = home.state_dir / SUMMARY_FILE
    summary.parent.mkdir(parents=True)
    # what the last snapshot said: 45 minutes left, written a while ago
    old = Summary(int(time.time()) - 600, int(time.time()) + 45 * 60 + 30, 3600, 900,
                  "warning", 0, "222222222222 eu-central-1").line() + "\n"
    summary.write_text(old)
    os.utime(summary, (time.time() - 600, time.time() - 600))
    home.docker_config({}, credHelpers={SLOW: "slow"})  # a login changed since: stale
    env = {"PATH": home.path_with_bin}

    shown = home.run_cli("prompt", **env)

    assert (shown.returncode, shown.stdout, shown.stderr) == (0, "ECR 45m?\n", "")
    # the refresh runs detached: it asks the helper, which is still waiting for the test
    wait_until(lambda: calls.exists() and calls.read_text().strip(), 30, "the helper's call")
    (pid,) = [int(line) for line in calls.read_text().split()]
    assert alive(pid) and summary.read_text() == old
    # more prompts meanwhile, one after a new change: all answer, none starts a 2nd refresh
    os.utime(home.docker_config_path)
    for flags in ([], ["--tmux"], ["--waybar"]):
        again = home.run_cli("prompt", *flags, **env)
        assert again.returncode == 0 and "45m?" in again.stdout
    assert calls.read_text().split() == [str(pid)]
    release.touch()
    wait_until(lambda: parse_summary(summary.read_text()).label != "222222222222 eu-central-1",
               30, "the refreshed summary")
    fresh = parse_summary(summary.read_text())
    assert fresh.label == "777777777777 eu-west-1" and fresh.worst == "ok"
    assert fresh.expires_at > time.time() + 4 * 3600
    wait_until(lambda: not (home.state_dir / "prompt-refresh.lock").exists(), 30,
               "the refresh to release its lock")
    assert home.run_cli("prompt", **env).stdout == ""  # 5 hours left: nothing to show
