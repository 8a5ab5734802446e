"""`ecr-token-tray login` argument handling that needs no AWS at all."""

from __future__ import annotations

from tests.builders import docker_auth, host


def test_nothing_expiring_is_success_without_any_aws_call(home):
    home.docker_config({host(): {"auth": docker_auth(600)}})
    result = home.run_cli("login")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Nothing to refresh: no login is in warning, critical or"
                                    " expired state")


def test_hosts_and_all_together_is_a_usage_error(home):
    result = home.run_cli("login", host(), "--all")
    assert result.returncode == 2
    assert "give either HOST arguments or --all/--expiring, not both" in result.stderr
    assert "Traceback" not in result.stderr


def test_all_and_expiring_are_exclusive(home):
    result = home.run_cli("login", "--all", "--expiring")
    assert result.returncode == 2 and "not allowed with argument" in result.stderr


def test_only_non_ecr_hosts(home):
    result = home.run_cli("login", "ghcr.io", "https://registry.example.com/v2/")
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "failed    ghcr.io: not an Amazon ECR registry host - expected e.g."
        " 123456789012.dkr.ecr.us-west-2.amazonaws.com or public.ecr.aws",
        "failed    https://registry.example.com/v2/: not an Amazon ECR registry host -"
        " expected e.g. 123456789012.dkr.ecr.us-west-2.amazonaws.com or public.ecr.aws",
    ]
