"""The guest limit under a rotating X-Forwarded-For, against the API as production serves
it: the command of Dockerfile.api (the one railway.toml runs too) in its own uvicorn
process on the loopback, with the production environment.

uvicorn itself trusts forwarded headers from 127.0.0.1 unless told not to, and the test's
requests come from 127.0.0.1: so this shows that the served command, not only the app,
keys the limit on the real peer, and that a proxy named in FORWARDED_ALLOW_IPS is
believed."""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import tomllib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from api.accounts.users import caller_for
from api.db.session import Connection
from tests.test_api import SECRET, auth, new_key

ROOT = Path(__file__).resolve().parent.parent
GUEST_LIMIT = 5


def served_command() -> list[str]:
    """Dockerfile.api's CMD (`sh -c "uvicorn …"`), as argv; railway.toml starts the same."""
    text = (ROOT / "Dockerfile.api").read_text()
    found = re.search(r'^CMD \["sh", "-c", "(uvicorn [^"]+)"\]', text, re.M)
    assert found is not None, "Dockerfile.api has no uvicorn CMD"
    command = found[1]
    railway = tomllib.loads((ROOT / "railway.toml").read_text())["deploy"]["startCommand"]
    assert railway.replace("$PORT", "${PORT}") == command
    return shlex.split(command)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(db_url: str, tmp_path: Path, **env: str) -> Iterator[str]:
    port = free_port()
    argv = [
        {"0.0.0.0": "127.0.0.1", "${PORT}": str(port)}.get(arg, arg)  # noqa: S104 (replaced)
        for arg in served_command()
    ]
    assert argv[0] == "uvicorn" and "--no-proxy-headers" in argv
    environ = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ENVIRONMENT": "production",
        "KNITTER_HOME": str(tmp_path / "home"),
        "DATABASE_URL": db_url,
        "SUPABASE_JWT_SECRET": SECRET,
        "ENCRYPTION_KEY": new_key(),
        "SEARCH_RATE_LIMIT": f"{GUEST_LIMIT}/minute",
        **env,
    }
    environ.pop("REDIS_URL", None)  # counted in this process: each server starts afresh
    log = (tmp_path / f"uvicorn-{port}.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", *argv],
        cwd=ROOT,
        env=environ,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):  # bounded: 60 s for the model to load
            assert process.poll() is None, (tmp_path / f"uvicorn-{port}.log").read_text()
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        else:
            pytest.fail("the served API did not become healthy")
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def guest_searches(base: str, conn: Connection) -> list[int]:
    guest = caller_for(conn, f"xff-{uuid.uuid4().hex[:10]}@example.com", create=True)
    with httpx.Client(base_url=base, timeout=30) as client:
        return [
            client.post(
                "/v1/search",
                json={"query": "sourdough", "keyword_only": True},
                headers={**auth(guest, anonymous=True), "X-Forwarded-For": f"203.0.113.{i}"},
            ).status_code
            for i in range(GUEST_LIMIT + 3)
        ]


def test_served_api_keys_the_guest_limit_on_the_peer(
    db_url: str, conn: Connection, tmp_path: Path
) -> None:
    with served(db_url, tmp_path) as base:
        codes = guest_searches(base, conn)
    assert codes == [200] * GUEST_LIMIT + [429] * 3, codes


def test_served_api_believes_a_configured_proxy(
    db_url: str, conn: Connection, tmp_path: Path
) -> None:
    with served(db_url, tmp_path, FORWARDED_ALLOW_IPS="127.0.0.1") as base:
        codes = guest_searches(base, conn)
    assert codes == [200] * (GUEST_LIMIT + 3), codes
