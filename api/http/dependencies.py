"""FastAPI dependencies: the caller from their Supabase token, and database connections."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, TypeVar

import anyio.to_thread
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

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
    request.state.caller = caller  # read by the rate limiter's key function
    return caller


CallerDep = Annotated[Caller, Depends(current_caller)]


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


async def with_connection(svc: Services, work: Callable[[Connection], T]) -> T:
    """`work` with a pooled connection, for an `async` endpoint: taking the connection,
    the work and giving it back run on one worker thread (a `def` endpoint with DbDep
    hands off three times, and once more to validate its response). Waits on the gate
    first, as `db` does, so the thread finds a connection free."""
    pool, gate = svc.pool, svc.db_gate
    assert pool is not None and gate is not None

    def run() -> T:
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
