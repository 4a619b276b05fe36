"""FastAPI dependencies: the caller from their Supabase token, rate limits, and database
connections."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, TypeVar

import anyio.to_thread
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from limits import parse

from api.db.session import Caller, Connection
from api.http.auth import AuthError
from api.http.services import Services

T = TypeVar("T")

bearer = HTTPBearer(auto_error=False, description="A Supabase access token (JWT).")


# The dependencies below are async: FastAPI runs a plain `def` dependency on a worker
# thread, and a hand-off per dependency is most of what a small request costs.


async def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


ServicesDep = Annotated[Services, Depends(services)]


async def token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> str:
    if credentials is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "a bearer token is required",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return credentials.credentials


TokenDep = Annotated[str, Depends(token)]


async def current_caller(request: Request, svc: ServicesDep, jwt: TokenDep) -> Caller:
    verify = svc.verifier.caller
    try:
        # A token signed by a key not yet fetched waits for the JWKS on a thread.
        caller = (
            verify(jwt)
            if svc.verifier.verifies_offline(jwt)
            else await anyio.to_thread.run_sync(verify, jwt)
        )
    except AuthError as exc:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            str(exc),
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        ) from None
    return caller


CallerDep = Annotated[Caller, Depends(current_caller)]


class RateLimit:
    """At most `limit` requests per signed-in user (a guest per address) to a route,
    RateLimited (429) beyond; `rate_limit` makes it the route's dependency."""

    def __init__(self, limit: str) -> None:
        self.item = parse(limit)

    def count(self, request: Request, caller: Caller, svc: Services) -> None:
        """Counts the request, on the calling thread: it may wait on Redis."""
        sub = caller.claims.get("sub")
        if sub and not caller.claims.get("is_anonymous"):
            who = f"user:{sub}"
        else:  # a guest can be made again and again: counted by address
            who = f"ip:{request.client.host if request.client else 'unknown'}"
        route = f"{request.method} {request.scope['route'].path}"
        svc.rate_limits.check(self.item, route, who)

    async def __call__(self, request: Request, caller: CallerDep, svc: ServicesDep) -> None:
        if svc.rate_limits.waits_on_the_network:
            await anyio.to_thread.run_sync(self.count, request, caller, svc)
        else:
            self.count(request, caller, svc)


def rate_limit(limit: str) -> Any:
    """A rate limit, declared with a route or with a router whose routes share it
    (`dependencies=[...]`), counted per route: it runs before the route takes a database
    connection, and never waits on Redis in the event loop."""
    return Depends(RateLimit(limit))


async def service_caller(svc: ServicesDep, jwt: TokenDep) -> Caller:
    verify = svc.verifier.service
    try:
        if svc.verifier.verifies_offline(jwt):
            return verify(jwt)
        return await anyio.to_thread.run_sync(verify, jwt)
    except AuthError as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from None


ServiceRoleDep = Annotated[Caller, Depends(service_caller)]


async def db(svc: ServicesDep) -> AsyncIterator[Connection]:
    """A pooled connection for the request. Requests wait for one here, in the event loop
    (on the gate), not on a worker thread: a thread blocked waiting for a connection that
    another request holds while it waits for a thread would deadlock them both."""
    pool, gate = svc.pool, svc.db_gate
    assert pool is not None and gate is not None
    async with gate:
        conn = await anyio.to_thread.run_sync(pool.getconn)
        try:
            yield conn
        finally:
            await anyio.to_thread.run_sync(pool.putconn, conn)


async def with_connection(
    svc: Services, work: Callable[[Connection], T], first: Callable[[], None] | None = None
) -> T:
    """`work` with a pooled connection, for an `async` endpoint: `first` (a RateLimit's
    count, say), taking the connection, the work and giving it back run on one worker
    thread (a `def` endpoint with DbDep hands off three times, and once more to validate
    its response). Waits on the gate first, as `db` does, so the thread finds a
    connection free."""
    pool, gate = svc.pool, svc.db_gate
    assert pool is not None and gate is not None

    def run() -> T:
        if first is not None:
            first()
        with pool.connection() as conn:
            return work(conn)

    async with gate:
        return await anyio.to_thread.run_sync(run)


@contextmanager
def read_connection(svc: Services, primary: Connection) -> Iterator[Connection]:
    """For a request that also writes on `primary`: a replica connection when one is
    configured, else `primary` itself, so the request holds one pooled connection."""
    if svc.read_pool is None:
        yield primary
        return
    with svc.read_pool.connection() as conn:
        yield conn


DbDep = Annotated[Connection, Depends(db)]
