"""`/rest/v1/rpc/<fn>`: PostgREST's RPC endpoint. The role and claims come from the JWT
(the anon key → `anon`, a user's token → `authenticated`, the service key →
`service_role`); each call is one transaction run as that caller, read-only for stable and
immutable functions, so row-level security and grants decide exactly as on Supabase."""

from __future__ import annotations

import json
from typing import Any

import psycopg
from fastapi import APIRouter, Request, Response
from psycopg_pool import ConnectionPool
from starlette.concurrency import run_in_threadpool

from api.db.session import Caller, Connection, transaction_as
from api.gateway import rpc
from api.gateway.errors import PostgrestError
from api.gateway.requests import BadBody, bearer_token, json_object
from api.gateway.tokens import InvalidToken, TokenIssuer

# Query parameters PostgREST reads itself; on GET every other one is an argument.
RESERVED = {"select", "limit", "offset", "order", "columns", "on_conflict"}
SINGLE_OBJECT = "application/vnd.pgrst.object+json"
# Supabase sets these on the roles (`alter role anon set statement_timeout = '3s'`) and
# PostgREST applies the role's settings in each transaction: nothing may pass locally that
# Supabase would cancel. The service role has none.
STATEMENT_TIMEOUTS = {"anon": "3s", "authenticated": "8s"}
JSON_TYPE = "application/json; charset=utf-8"


def _caller(request: Request, issuer: TokenIssuer) -> Caller:
    # Without Authorization the API key is the token, as Supabase's gateway forwards it.
    token = bearer_token(request) or request.headers.get("apikey")
    if token is None:
        return Caller.anon()
    try:
        return issuer.caller(token)
    except InvalidToken as exc:
        raise PostgrestError(
            401,
            "PGRST303" if exc.expired else "PGRST301",
            str(exc),
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        ) from None


def _check_schema(request: Request, read: bool) -> None:
    profile = request.headers.get("accept-profile" if read else "content-profile")
    if profile is not None and profile != rpc.SCHEMA:
        raise PostgrestError(
            406, "PGRST106", f"The schema must be one of the following: {rpc.SCHEMA}"
        )


def _paging(request: Request) -> tuple[int | None, int]:
    """limit and offset on a set-returning function's rows; PostgREST's other result
    operators (filters, order, column selection) are not part of this stand-in."""
    query = request.query_params
    if request.method == "POST":
        unsupported = sorted(k for k in query if k not in {"select", "limit", "offset"})
    else:
        unsupported = sorted(k for k in query if k in RESERVED - {"select", "limit", "offset"})
    if query.get("select", "*") != "*":
        unsupported.append("select")
    if unsupported:
        raise PostgrestError(
            400,
            "PGRST100",
            "the local gateway supports only limit and offset on RPC results",
            f"unsupported query parameters: {', '.join(unsupported)}",
        )
    try:
        limit = int(query["limit"]) if "limit" in query else None
        offset = int(query.get("offset", "0"))
    except ValueError:
        raise PostgrestError(400, "PGRST100", "limit and offset must be integers") from None
    if (limit is not None and limit < 0) or offset < 0:
        raise PostgrestError(400, "PGRST100", "limit and offset must not be negative")
    return limit, offset


def rest_router(pool: ConnectionPool[Connection], issuer: TokenIssuer) -> APIRouter:
    router = APIRouter(prefix="/rest/v1")

    def run(
        request: Request,
        name: str,
        arguments: dict[str, Any],
        caller: Caller,
        limit: int | None,
        offset: int,
    ) -> tuple[bool, str | None]:
        read = request.method in ("GET", "HEAD")
        with pool.connection() as conn:
            function = rpc.find_function(conn, name, arguments)
            if read and not function.read_only:
                raise PostgrestError(
                    405,
                    "PGRST101",
                    f"GET is only allowed for stable or immutable functions; "
                    f"call {rpc.SCHEMA}.{name} with POST",
                )
            try:
                with transaction_as(conn, caller):
                    if caller.role in STATEMENT_TIMEOUTS:
                        conn.execute(
                            "select set_config('statement_timeout', %s, true)",
                            [STATEMENT_TIMEOUTS[caller.role]],
                        )
                    if function.read_only:  # GET never reaches here otherwise
                        conn.execute("set transaction read only")
                    conn.execute(
                        "select set_config('request.method', %s, true),"
                        " set_config('request.path', %s, true),"
                        " set_config('request.headers', %s, true)",
                        [request.method, request.url.path, json.dumps(dict(request.headers))],
                    )
                    result = rpc.call(
                        conn, function, arguments, as_text=read, limit=limit, offset=offset
                    )
            except psycopg.Error as exc:
                raise PostgrestError.from_database(exc, caller.role) from None
        return function.returns_set, result

    @router.api_route("/rpc/{name}", methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])
    async def call_function(name: str, request: Request) -> Response:
        if request.method not in ("GET", "HEAD", "POST"):
            raise PostgrestError(
                405, "PGRST101", "For functions, only GET and POST verbs are allowed"
            )
        read = request.method != "POST"
        given = request.query_params.multi_items() if read else []
        if "\x00" in name or any("\x00" in k + v for k, v in given):
            # PostgreSQL's text cannot hold it; as the server itself would refuse it.
            raise PostgrestError(
                400, "22P05", "unsupported Unicode escape sequence", "\\u0000 cannot be text"
            )
        _check_schema(request, read)
        caller = _caller(request, issuer)
        limit, offset = _paging(request)
        if read:
            arguments: dict[str, Any] = {
                k: v for k, v in request.query_params.items() if k not in RESERVED
            }
        else:
            try:
                arguments = await json_object(request)
            except BadBody as exc:
                raise PostgrestError(400, "PGRST102", "Empty or invalid json", str(exc)) from None
        returns_set, result = await run_in_threadpool(
            run, request, name, arguments, caller, limit, offset
        )
        if result is None:
            return Response(status_code=204)  # a void function, as PostgREST 11+ answers
        if SINGLE_OBJECT in request.headers.get("accept", "") and returns_set:
            rows = json.loads(result)
            if len(rows) != 1:
                raise PostgrestError(
                    406,
                    "PGRST116",
                    "JSON object requested, multiple (or no) rows returned",
                    f"The result contains {len(rows)} rows",
                )
            result = json.dumps(rows[0])
        body = b"" if request.method == "HEAD" else result.encode()
        return Response(body, media_type=JSON_TYPE)

    return router
