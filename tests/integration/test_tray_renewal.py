"""The tray loop's automatic renewal through the real engine, docker CLI and local ECR lab."""

from __future__ import annotations

import shutil

import pytest

from tests.builders import docker_auth, host, in_
from tests.loop_support import FakeClock, RecordingNotifier
from tray_app.settings import Paths
from tray_app.ui.loop import TrayLoop

pytestmark = [pytest.mark.docker,
              pytest.mark.skipif(shutil.which("docker") is None, reason="needs the docker CLI")]

DEV = host("222222222222", "eu-central-1")


def test_automatic_renewal_renews_quietly_through_the_real_engine(home, ecr_lab):
    home.docker_config({DEV: {"auth": docker_auth(40.5)}})
    notifier = RecordingNotifier()
    loop = TrayLoop(Paths.from_env(), notifier, clock=FakeClock(in_(0)))
    loop.step()
    assert loop.busy is not None
    loop.join_worker(timeout=120)
    loop.step()
    assert notifier.sent == []  # success is silent
    row = loop.view().snapshot.registries[0]
    assert row.seconds_left > 11 * 3600
    assert ecr_lab.endpoint.token_calls() == 1
