"""Rows -> token groups: one per (profile, service, region)."""

from __future__ import annotations

from tray_app.hosts import parse_registry
from tray_app.model import RegistryStatus, State
from tray_app.renew.plan import group_rows, profile_label


def row(host: str, profile: str | None, source: str = "docker-config") -> RegistryStatus:
    registry = parse_registry(host)
    assert registry is not None
    return RegistryStatus(registry, source, None, None, State.EXPIRED, "", profile)


def test_accounts_in_one_region_share_a_group_per_profile():
    rows = [row("111111111111.dkr.ecr.eu-central-1.amazonaws.com", "dev"),
            row("222222222222.dkr.ecr.eu-central-1.amazonaws.com", "dev"),
            row("222222222222.dkr.ecr.eu-central-1.amazonaws.com", "dev", "podman"),
            row("333333333333.dkr.ecr.us-west-2.amazonaws.com", "dev"),
            row("444444444444.dkr.ecr.eu-central-1.amazonaws.com", "ops")]
    groups = group_rows(rows)
    assert [(g.key, len(g.rows)) for g in groups] == [
        (("dev", "ecr", "eu-central-1"), 3),
        (("dev", "ecr", "us-west-2"), 1),
        (("ops", "ecr", "eu-central-1"), 1),
    ]


def test_public_ecr_goes_to_ecr_public_in_us_east_1():
    rows = [row("public.ecr.aws", None), row("ecr-public.aws.com", None),
            row("111111111111.dkr.ecr.us-east-1.amazonaws.com", None)]
    assert [(g.key, len(g.rows)) for g in group_rows(rows)] == [
        ((None, "ecr-public", "us-east-1"), 2), ((None, "ecr", "us-east-1"), 1)]


def test_profile_override_wins_over_every_row():
    rows = [row("111111111111.dkr.ecr.eu-central-1.amazonaws.com", "dev"),
            row("222222222222.dkr.ecr.eu-central-1.amazonaws.com", "ops")]
    assert [g.key for g in group_rows(rows, "admin")] == [("admin", "ecr", "eu-central-1")]


def test_other_partitions_keep_their_region():
    rows = [row("111111111111.dkr.ecr.cn-north-1.amazonaws.com.cn", "cn"),
            row("111111111111.dkr.ecr-fips.us-gov-west-1.amazonaws.com", "gov")]
    assert [g.key for g in group_rows(rows)] == [("cn", "ecr", "cn-north-1"),
                                                ("gov", "ecr", "us-gov-west-1")]


def test_profile_label_names_the_default_chain():
    assert profile_label(None) == "the default profile"
    assert profile_label("dev") == "profile dev"
