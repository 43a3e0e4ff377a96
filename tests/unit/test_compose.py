"""docker-compose.yml and the Dockerfile run the ledger on PostgreSQL 16 as the code expects."""

import re
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
import yaml

from ledger.config import ENV_VARS, Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_TEXT = (ROOT / "docker-compose.yml").read_text()
DOCKERFILE = (ROOT / "Dockerfile").read_text()


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE_TEXT)
    assert isinstance(document, dict)
    return document


def service(compose: dict[str, Any], name: str) -> dict[str, Any]:
    services = compose["services"]
    assert name in services, f"no {name} service"
    result: dict[str, Any] = services[name]
    return result


def health_command(svc: dict[str, Any]) -> str:
    test = svc["healthcheck"]["test"]
    return test if isinstance(test, str) else " ".join(test)


def test_runs_exactly_postgres_and_the_ledger(compose: dict[str, Any]) -> None:
    default = {name for name, svc in compose["services"].items() if not svc.get("profiles")}
    assert default == {"postgres", "ledger", "ledger-2"}


def test_two_ledger_instances_share_one_signing_key(compose: dict[str, Any]) -> None:
    first, second = service(compose, "ledger"), service(compose, "ledger-2")
    key_file = first["environment"]["LEDGER_SIGNING_KEY_FILE"]
    assert second["environment"]["LEDGER_SIGNING_KEY_FILE"] == key_file
    [volume] = first["volumes"]
    name, _, target = volume.partition(":")
    assert key_file.startswith(target + "/")
    assert name in (compose.get("volumes") or {}), "the key volume must be named"
    assert second["volumes"] == first["volumes"]
    assert second["ports"] != first["ports"]


def test_postgres_is_16_on_a_named_volume(compose: dict[str, Any]) -> None:
    postgres = service(compose, "postgres")
    assert postgres["image"] == "postgres:16"
    [volume] = [v for v in postgres["volumes"] if v.endswith(":/var/lib/postgresql/data")]
    name, _, target = volume.partition(":")
    assert target == "/var/lib/postgresql/data"
    assert name in (compose.get("volumes") or {}), "volume must be named, not a host path"
    assert postgres["environment"]["POSTGRES_PASSWORD"]


def test_postgres_health_is_pg_isready(compose: dict[str, Any]) -> None:
    assert "pg_isready" in health_command(service(compose, "postgres"))


def test_ledger_is_built_here_and_waits_for_a_healthy_database(compose: dict[str, Any]) -> None:
    ledger = service(compose, "ledger")
    assert ledger["build"] == "."
    assert ledger["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_ledger_database_url_points_at_the_postgres_service(compose: dict[str, Any]) -> None:
    postgres_env = service(compose, "postgres")["environment"]
    url = urllib.parse.urlsplit(service(compose, "ledger")["environment"]["LEDGER_DATABASE_URL"])
    assert url.scheme == "postgresql"
    assert url.hostname == "postgres"
    assert url.username == postgres_env["POSTGRES_USER"]
    assert url.password == postgres_env["POSTGRES_PASSWORD"]
    assert url.path == "/" + postgres_env["POSTGRES_DB"]


def test_ledger_settings_parse_and_publish_the_listening_port(compose: dict[str, Any]) -> None:
    ledger = service(compose, "ledger")
    env = {k: str(v) for k, v in ledger["environment"].items()}
    settings = Settings.from_env(env, stderr_is_tty=False)
    assert settings.host == "0.0.0.0"
    assert settings.log_format == "json"
    assert f"8080:{settings.port}" in ledger["ports"]


def test_ledger_health_check_asks_healthz_with_the_python_in_the_image(
    compose: dict[str, Any],
) -> None:
    command = health_command(service(compose, "ledger"))
    assert "urllib.request" in command
    assert "/healthz" in command
    port = Settings.from_env(
        {k: str(v) for k, v in service(compose, "ledger")["environment"].items()}
    ).port
    assert f":{port}/healthz" in command


def test_compose_uses_only_variables_the_code_reads(compose: dict[str, Any]) -> None:
    named = set(re.findall(r"\bLEDGER_[A-Z0-9_]+", COMPOSE_TEXT))
    assert named, "the ledger must be configured through LEDGER_* variables"
    assert named <= set(ENV_VARS), f"unknown to ledger.config: {sorted(named - set(ENV_VARS))}"
    assert "LEDGER_DATABASE_URL" in service(compose, "ledger")["environment"]


def test_image_serves_on_all_interfaces_from_python_311() -> None:
    assert re.search(r"^FROM python:3\.11-slim\b", DOCKERFILE, re.MULTILINE)
    assert 'CMD ["ledger", "serve", "--host", "0.0.0.0"]' in DOCKERFILE
    assert re.search(r"^EXPOSE 8080$", DOCKERFILE, re.MULTILINE)
    named = set(re.findall(r"\bLEDGER_[A-Z0-9_]+", DOCKERFILE))
    assert named <= set(ENV_VARS)


def _hba_file(postgres: dict[str, Any]) -> Path:
    command = postgres["command"]
    [setting] = [part for part in command if part.startswith("hba_file=")]
    inside = setting.removeprefix("hba_file=")
    [mount] = [v for v in postgres["volumes"] if v.split(":")[1] == inside]
    return ROOT / mount.split(":")[0]


def test_the_primary_accepts_replication_connections_with_a_password(
    compose: dict[str, Any],
) -> None:
    rules = [
        line.split()
        for line in _hba_file(service(compose, "postgres")).read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert ["host", "replication", "all", "all", "scram-sha-256"] in rules
    assert ["host", "all", "all", "all", "scram-sha-256"] in rules


def test_the_standby_is_optional_behind_its_profile(compose: dict[str, Any]) -> None:
    standby = service(compose, "postgres-standby")
    assert standby["profiles"] == ["standby"]
    assert standby["image"] == service(compose, "postgres")["image"]
    assert standby["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_the_standby_is_cloned_by_streaming_replication_and_stays_hot(
    compose: dict[str, Any],
) -> None:
    standby = service(compose, "postgres-standby")
    script = " ".join(standby["command"])
    assert "pg_basebackup --host=postgres" in script
    assert "--write-recovery-conf" in script  # standby.signal + primary_conninfo
    assert "--wal-method=stream" in script
    assert "hot_standby=on" in script
    [volume] = standby["volumes"]
    name, _, target = volume.partition(":")
    assert target == "/var/lib/postgresql/data"
    assert name in (compose.get("volumes") or {})
    assert name not in " ".join(service(compose, "postgres")["volumes"])


def test_the_ledger_reads_from_the_standby_within_a_lag_bound(compose: dict[str, Any]) -> None:
    env = {k: str(v) for k, v in service(compose, "ledger")["environment"].items()}
    settings = Settings.from_env(env, stderr_is_tty=False)
    [read_url] = settings.read_database_urls
    url = urllib.parse.urlsplit(read_url)
    primary = urllib.parse.urlsplit(env["LEDGER_DATABASE_URL"])
    assert url.hostname == "postgres-standby"
    same = (primary.username, primary.password, primary.path)
    assert (url.username, url.password, url.path) == same
    assert settings.read_max_lag_s == 5.0
