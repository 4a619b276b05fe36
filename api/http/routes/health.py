"""GET /health, GET /livez and GET /metrics: for load balancers, orchestrators and
Prometheus. No secrets."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import psycopg
from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from psycopg_pool import PoolTimeout

from api import __version__
from api.db.migrate import pending
from api.http.dependencies import ServicesDep
from api.http.schemas import Alive, Health
from api.http.services import Services

# /health needs no token and a check takes a pooled connection: an answer serves every
# caller for a second, and one check runs at a time, so a flood cannot take the pool.
FRESH_SECONDS = 1.0


def check(svc: Services) -> Health:
    database, migrations = "unreachable", "unknown"
    try:
        assert svc.pool is not None
        with svc.pool.connection(timeout=3) as conn:
            conn.execute("select 1")
            database = "ok"
            migrations = "pending" if pending(conn) else "current"
    except (psycopg.Error, PoolTimeout):
        pass
    ok = database == "ok" and migrations == "current"
    return Health(
        status="ok" if ok else "degraded",
        version=__version__,
        environment=svc.settings.environment,
        database=database,  # type: ignore[arg-type]
        migrations=migrations,  # type: ignore[arg-type]
        checked_at=datetime.now(UTC),
    )


class LastCheck:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.health: Health | None = None
        self.at = 0.0

    def fresh(self) -> Health | None:
        fresh = time.monotonic() - self.at < FRESH_SECONDS
        return self.health if fresh else None

    def answer(self, svc: Services) -> Health:
        if found := self.fresh():
            return found
        last = self.health
        # While a check runs (up to 3 s with the database away) the others get the last
        # answer; only the first ever waits for one.
        if not self.lock.acquire(blocking=last is None):
            assert last is not None
            return last
        try:
            if found := self.fresh():
                return found
            self.health = check(svc)
            self.at = time.monotonic()
            return self.health
        finally:
            self.lock.release()


def router() -> APIRouter:
    routes = APIRouter(tags=["operations"])
    last = LastCheck()

    @routes.get("/health", response_model=Health, responses={503: {"model": Health}})
    def health(svc: ServicesDep, response: Response) -> Health:
        """The database and its migrations, checked at most once a second."""
        found = last.answer(svc)
        if found.status != "ok":
            response.status_code = 503
        return found

    @routes.get("/livez", response_model=Alive)
    async def livez() -> Alive:
        """The process answers, whatever the database does: a liveness probe restarts the
        process only when it hangs (/health on an unreachable database would restart every
        replica, and none could help)."""
        return Alive(status="alive", version=__version__)

    @routes.get("/metrics", response_class=Response, summary="Prometheus metrics")
    def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return routes
