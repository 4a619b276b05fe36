"""/v1/export and /v1/account: the caller takes all their data with them, or deletes it."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Response
from fastapi.responses import JSONResponse

from api.accounts import deletion, export
from api.config import Settings
from api.http.dependencies import CallerDep, DbDep, rate_limit
from api.http.schemas import AccountDeleteBody


def router(settings: Settings) -> APIRouter:
    routes = APIRouter(prefix="/v1", tags=["account"])

    @routes.get(
        "/export",
        summary="Export all of the caller's data",
        responses={200: {"content": {"application/zip": {}, "application/json": {}}}},
        dependencies=[rate_limit("10/minute")],
    )
    def export_route(
        caller: CallerDep,
        conn: DbDep,
        format: Annotated[Literal["zip", "json"], Query()] = "zip",
    ) -> Response:
        """The workspaces the caller owns, with every source and its passages, their search
        history, import jobs and stored key names (never the keys). `zip` holds
        `conversations.json` and one Markdown file per conversation; `json` is that JSON."""
        data = export.collect(conn, caller)
        if format == "json":
            return JSONResponse(data)
        return Response(
            export.to_zip(data),
            media_type="application/zip",
            headers={"Content-Disposition": 'attachment; filename="knitter-export.zip"'},
        )

    @routes.delete(
        "/account",
        status_code=204,
        summary="Delete the caller's account",
        dependencies=[rate_limit("5/minute")],
    )
    def delete_account(body: AccountDeleteBody, caller: CallerDep, conn: DbDep) -> Response:
        """Deletes the user and everything they own, for good. The body must be
        `{"confirm": "delete my account"}`."""
        assert caller.user_id is not None
        if not deletion.delete_user(conn, settings, caller.user_id):
            raise HTTPException(404, "no such user")
        return Response(status_code=204)

    return routes
