"""The app's direct config.json write racing 200 real `docker login`s on the same file.

Docker rewrites config.json by rename from the copy it loaded when the command started,
without a lock, so two writers can lose each other's updates. The app's side re-reads,
merges and replaces only the version it read (swapping files atomically, so even a rename
that lands in the last microseconds is put back). What Docker does with the app's entries
is Docker's: this test measures it and records the figures honestly.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import threading

import pytest

from tests import figures
from tests.builders import docker_auth, host
from tray_app.renew.store import write_docker_auth

pytestmark = [pytest.mark.docker,
              pytest.mark.skipif(shutil.which("docker") is None, reason="needs the docker CLI")]

ITERATIONS = 200


def test_direct_writes_during_200_docker_logins(home, ecr_lab):
    path = home.docker_config({"registry.example.com": {"auth": "dXNlcjpwYXNz"}})
    password, _ = ecr_lab.issuer.issue("us-east-1", "ecr")
    docker_hosts = [host(f"{i:012d}", "us-east-1") for i in range(1, ITERATIONS + 1)]
    app_auth = docker_auth(720)
    app_hosts: list[str] = []
    docker_done = threading.Event()
    reads = {"total": 0, "invalid": 0}
    failures: list[str] = []
    env = home.full_env()

    def docker_loop() -> None:
        try:
            for registry_host in docker_hosts:
                result = subprocess.run(
                    ["docker", "login", "--username", "AWS", "--password-stdin", registry_host],
                    input=password, env=env, capture_output=True, text=True, timeout=60)
                if result.returncode != 0:
                    failures.append(result.stderr[-300:])
        finally:
            docker_done.set()

    def app_loop() -> None:
        number = 0
        while not docker_done.is_set():
            number += 1
            registry_host = host(f"{number:012d}", "eu-west-1")
            write_docker_auth(path, registry_host, app_auth)
            app_hosts.append(registry_host)
            docker_done.wait(random.uniform(0.0, 0.05))

    def reader_loop() -> None:
        while not docker_done.is_set():
            raw = path.read_bytes()
            reads["total"] += 1
            try:
                json.loads(raw)
            except ValueError:
                reads["invalid"] += 1

    threads = [threading.Thread(target=loop) for loop in (docker_loop, app_loop, reader_loop)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(600)

    assert failures == []
    final = json.loads(path.read_text())["auths"]
    docker_kept = sum(1 for h in docker_hosts if h in final)
    app_kept = sum(1 for h in app_hosts if h in final)
    figures.record("config race: docker logins", ITERATIONS)
    figures.record("config race: iterations without a lost docker entry", docker_kept)
    figures.record("config race: app writes", len(app_hosts))
    figures.record("config race: app entries kept", app_kept)
    figures.record("config race: reads", reads["total"])
    figures.record("config race: invalid reads", reads["invalid"])
    assert reads["invalid"] == 0 and reads["total"] > ITERATIONS
    assert final["registry.example.com"] == {"auth": "dXNlcjpwYXNz"}
    assert len(app_hosts) > 10  # the writes really interleaved with the docker loop
    # the app never drops an entry Docker wrote
    assert docker_kept == ITERATIONS, [h for h in docker_hosts if h not in final][:5]
