from tests.builders import docker_auth, host


def test_status_json_reports_a_plain_docker_login(home):
    home.docker_config({host("222222222222", "eu-central-1"): {"auth": docker_auth(45)},
                        "docker.io": {"auth": docker_auth(45)}})
    document = home.status_json()
    assert [r["host"] for r in document["registries"]] == [host("222222222222", "eu-central-1")]
    row = document["registries"][0]
    assert row["source"] == "docker-config"
    assert row["state"] == "warning"
    assert 40 * 60 < row["seconds_left"] <= 45 * 60
