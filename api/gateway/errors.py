"""The two error shapes the clients parse: GoTrue's (`code`, `message`, with the API
version header that makes supabase_auth read `code`) and PostgREST's (`code`, `message`,
`details`, `hint`), and the SQLSTATE → HTTP status mapping PostgREST documents."""

from __future__ import annotations

from typing import Any

import psycopg
from fastapi.responses import JSONResponse

# supabase_auth reads `code` as the error code only when the response says it speaks
# this API version (or later); otherwise it looks for the legacy `error_code`.
API_VERSION_HEADER = "X-Supabase-Api-Version"
API_VERSION = "2024-01-01"


class AuthApiError(Exception):
    """A GoTrue error: status, machine-readable code and a message for people."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra or {}
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        body = {"code": self.code, "error_code": self.code, "msg": self.message}
        body.update(self.extra)
        headers = {API_VERSION_HEADER: API_VERSION, **self.headers}
        return JSONResponse(body, self.status, headers=headers)


class PostgrestError(Exception):
    """An error in PostgREST's body shape."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: str | None = None,
        hint: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.hint = hint
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        body = {"code": self.code, "details": self.details, "hint": self.hint}
        body["message"] = self.message
        return JSONResponse(body, self.status, headers=self.headers)

    @classmethod
    def from_database(cls, exc: psycopg.Error, role: str) -> PostgrestError:
        diag = exc.diag
        # psycopg refuses some values itself, before the server sees them (NUL in text).
        code = exc.sqlstate or ("22P05" if isinstance(exc, psycopg.DataError) else "XX000")
        return cls(
            sqlstate_status(code, anonymous=role == "anon"),
            code,
            diag.message_primary or str(exc),
            diag.message_detail,
            diag.message_hint,
        )


def sqlstate_status(code: str, *, anonymous: bool) -> int:
    """PostgREST's table (docs: errors, "SQLSTATE to HTTP status")."""
    if code == "42501":
        # Without a token the caller may get access by signing in; with one, never.
        return 401 if anonymous else 403
    if len(code) == 5 and code.startswith("PT") and code[2:].isdigit():
        return int(code[2:])  # raise ... using errcode = 'PT402' picks the status
    exact = {
        "23503": 409,
        "23505": 409,
        "25006": 405,
        "P0001": 400,
        "42883": 404,
        "42P01": 404,
        "42P17": 500,
        "53400": 500,
    }
    if code in exact:
        return exact[code]
    by_class = {
        "08": 503,
        "09": 500,
        "0L": 403,
        "0P": 403,
        "23": 400,
        "25": 500,
        "28": 403,
        "2D": 500,
        "38": 500,
        "39": 500,
        "3B": 500,
        "40": 500,
        "53": 503,
        "54": 413,
        "55": 500,
        "57": 500,
        "58": 500,
        "F0": 500,
        "HV": 500,
        "P0": 500,
        "XX": 500,
        "42": 400,
    }
    return by_class.get(code[:2], 400)
