"""GET /health and GET /metrics: for load balancers and Prometheus. No secrets."""

from __future__ import annotations

import psycopg
from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from psycopg_pool import PoolTimeout

from api import __version__
from api.db.migrate import pending
from api.http.dependencies import ServicesDep
from api.http.schemas import Health

routes = APIRouter(tags=["operations"])


@routes.get("/health", response_model=Health, responses={503: {"model": Health}})
def health(svc: ServicesDep, response: Response) -> Health:
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
    if not ok:
        response.status_code = 503
    return Health(
        status="ok" if ok else "degraded",
        version=__version__,
        environment=svc.settings.environment,
        database=database,  # type: ignore[arg-type]
        migrations=migrations,  # type: ignore[arg-type]
    )


@routes.get("/metrics", response_class=Response, summary="Prometheus metrics")
def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
