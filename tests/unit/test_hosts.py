"""ECR host recognition: every private form, ECR Public, historic key spellings, non-ECR."""

import pytest

from tray_app.hosts import host_of, parse_registry

ACCOUNT = "123456789012"


@pytest.mark.parametrize(
    ("host", "region", "partition", "fips", "dual_stack"),
    [
        (f"{ACCOUNT}.dkr.ecr.us-west-2.amazonaws.com", "us-west-2", "aws", False, False),
        (f"{ACCOUNT}.dkr.ecr-fips.us-east-1.amazonaws.com", "us-east-1", "aws", True, False),
        (f"{ACCOUNT}.dkr.ecr-fips.us-gov-west-1.amazonaws.com", "us-gov-west-1", "aws-us-gov",
         True, False),
        (f"{ACCOUNT}.dkr.ecr.us-gov-east-1.amazonaws.com", "us-gov-east-1", "aws-us-gov", False,
         False),
        (f"{ACCOUNT}.dkr-ecr.us-west-2.on.aws", "us-west-2", "aws", False, True),
        (f"{ACCOUNT}.dkr-ecr-fips.us-west-2.on.aws", "us-west-2", "aws", True, True),
        (f"{ACCOUNT}.dkr.ecr.cn-north-1.amazonaws.com.cn", "cn-north-1", "aws-cn", False, False),
        (f"{ACCOUNT}.dkr.ecr.cn-northwest-1.on.amazonwebservices.com.cn", "cn-northwest-1",
         "aws-cn", False, False),
        (f"{ACCOUNT}.dkr.ecr.eusc-de-east-1.amazonaws.eu", "eusc-de-east-1", "aws-eusc", False,
         False),
        (f"{ACCOUNT}.dkr.ecr.us-iso-east-1.c2s.ic.gov", "us-iso-east-1", "aws-iso", False, False),
        (f"{ACCOUNT}.dkr.ecr.us-isob-east-1.sc2s.sgov.gov", "us-isob-east-1", "aws-iso-b", False,
         False),
        (f"{ACCOUNT}.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk", "eu-isoe-west-1", "aws-iso-e", False,
         False),
        (f"{ACCOUNT}.dkr.ecr.us-isof-south-1.csp.hci.ic.gov", "us-isof-south-1", "aws-iso-f",
         False, False),
    ],
)
def test_every_private_ecr_form_is_recognised(host, region, partition, fips, dual_stack):
    ref = parse_registry(host)
    assert ref is not None
    assert (ref.host, ref.account_id, ref.region, ref.partition) == (host, ACCOUNT, region,
                                                                     partition)
    assert (ref.fips, ref.dual_stack, ref.public) == (fips, dual_stack, False)


@pytest.mark.parametrize("host", ["public.ecr.aws", "ecr-public.aws.com"])
def test_ecr_public_has_no_account_and_lives_in_us_east_1(host):
    ref = parse_registry(f"https://{host}/")
    assert ref is not None
    assert (ref.host, ref.account_id, ref.region, ref.public) == (host, None, "us-east-1", True)
    assert ref.label == host


@pytest.mark.parametrize("key", [
    f"{ACCOUNT}.dkr.ecr.eu-central-1.amazonaws.com",
    f"https://{ACCOUNT}.dkr.ecr.eu-central-1.amazonaws.com",
    f"https://{ACCOUNT}.dkr.ecr.eu-central-1.amazonaws.com/",
    f"https://{ACCOUNT}.dkr.ecr.eu-central-1.amazonaws.com/v1/",
    f"http://{ACCOUNT}.dkr.ecr.eu-central-1.amazonaws.com/v2/",
    f"{ACCOUNT}.dkr.ecr.eu-central-1.amazonaws.com/v1/",
    f"{ACCOUNT}.dkr.ecr.eu-central-1.amazonaws.com/team/app",  # Podman: repository path
    f"  HTTPS://{ACCOUNT}.DKR.ECR.EU-CENTRAL-1.AMAZONAWS.COM/  ",
])
def test_historic_key_forms_reduce_to_the_bare_host(key):
    ref = parse_registry(key)
    assert ref is not None
    assert ref.host == f"{ACCOUNT}.dkr.ecr.eu-central-1.amazonaws.com"
    assert ref.label == f"{ACCOUNT} eu-central-1"


@pytest.mark.parametrize("key", [
    "docker.io", "https://index.docker.io/v1/", "ghcr.io", "quay.io/org/repo",
    "localhost:5000", "registry.example.com",
    f"{ACCOUNT}.dkr.ecr.us-west-2.amazonaws.com.evil.example",  # suffix attack
    f"evil.example/{ACCOUNT}.dkr.ecr.us-west-2.amazonaws.com",  # host is the first part
    "12345.dkr.ecr.us-west-2.amazonaws.com",  # account is 12 digits
    f"{ACCOUNT}.dkr.ecr..amazonaws.com",
    f"{ACCOUNT}.dkr.ecr.us-west-2.amazonaws.org",
    "ecr.aws", "public.ecr.aws.example", "", "   ",
])
def test_non_ecr_hosts_are_ignored(key):
    assert parse_registry(key) is None


@pytest.mark.parametrize("value", [None, 42, b"public.ecr.aws", ["public.ecr.aws"], {}])
def test_non_string_keys_are_not_registries(value):
    assert parse_registry(value) is None


def test_labels_name_fips_and_dual_stack():
    ref = parse_registry(f"{ACCOUNT}.dkr-ecr-fips.us-west-2.on.aws")
    assert ref.label == f"{ACCOUNT} us-west-2 fips dual-stack"
    assert ref.url == f"https://{ACCOUNT}.dkr-ecr-fips.us-west-2.on.aws"


def test_host_of_keeps_ports_and_strips_paths():
    assert host_of("https://Registry.Example.com:5000/v2/") == "registry.example.com:5000"
    assert host_of("quay.io/org/repo") == "quay.io"
