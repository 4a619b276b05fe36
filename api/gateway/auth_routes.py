"""`/auth/v1`: the part of GoTrue (Supabase Auth) the clients use for email and password,
refresh tokens and anonymous (guest) sign-ins, with GoTrue's bodies and error codes.

Local stand-in: every email sign-up is confirmed at once (as the Supabase CLI's default
`enable_confirmations = false`), no captcha is checked, and the one mail it sends (password
recovery) goes to the local outbox (api/gateway/outbox.py), not to a mail server."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from uuid import UUID

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from psycopg_pool import ConnectionPool
from starlette.concurrency import run_in_threadpool

from api.accounts.deletion import delete_auth_row
from api.db.session import Connection
from api.gateway import auth_store
from api.gateway.errors import API_VERSION, API_VERSION_HEADER, AuthApiError
from api.gateway.outbox import Mail, Outbox
from api.gateway.passwords import hash_password, verify_password
from api.gateway.requests import BadBody, bearer_token, json_object
from api.gateway.throttle import AuthThrottle
from api.gateway.tokens import InvalidToken, TokenIssuer

# Supabase's defaults: at least 6 characters; at most 72 (GoTrue's bcrypt limit).
MIN_PASSWORD_LENGTH = 6
MAX_PASSWORD_LENGTH = 72
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
LOGOUT_SCOPES = ("global", "local", "others")
MAX_METADATA_BYTES = 8 * 1024
# GoTrue's MAILER_OTP_EXP default: a recovery link works for an hour, once.
RECOVERY_TTL_SECONDS = 3600
RESET_PATH = "/reset-password"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def user_json(user: dict[str, Any]) -> dict[str, Any]:
    """A user as GoTrue returns it (the fields supabase_auth's `User` reads)."""
    user_id = str(user["id"])
    identities: list[dict[str, Any]] = []
    if user["email"] and not user["is_anonymous"]:
        identities.append(
            {
                "identity_id": user_id,
                "id": user_id,
                "user_id": user_id,
                "identity_data": {
                    "email": user["email"],
                    "email_verified": user["email_confirmed_at"] is not None,
                    "phone_verified": False,
                    "sub": user_id,
                },
                "provider": "email",
                "last_sign_in_at": _iso(user["last_sign_in_at"]),
                "created_at": _iso(user["created_at"]),
                "updated_at": _iso(user["updated_at"]),
                "email": user["email"],
            }
        )
    return {
        "id": user_id,
        "aud": user["aud"] or "authenticated",
        "role": user["role"] or "authenticated",
        "email": user["email"] or "",
        "email_confirmed_at": _iso(user["email_confirmed_at"]),
        "phone": "",
        "confirmed_at": _iso(user["email_confirmed_at"]),
        "last_sign_in_at": _iso(user["last_sign_in_at"]),
        "app_metadata": user["raw_app_meta_data"],
        "user_metadata": user["raw_user_meta_data"],
        "identities": identities,
        "created_at": _iso(user["created_at"]),
        "updated_at": _iso(user["updated_at"]),
        "is_anonymous": bool(user["is_anonymous"]),
    }


def _ok(body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body, headers={API_VERSION_HEADER: API_VERSION})


def _text(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise AuthApiError(400, "validation_failed", f"{key} must be a string")
    if "\x00" in value:  # PostgreSQL's text cannot hold it
        raise AuthApiError(400, "validation_failed", f"{key} must not contain NUL characters")
    return value


def _metadata(body: dict[str, Any]) -> dict[str, Any]:
    data = body.get("data") or {}
    if not isinstance(data, dict):
        raise AuthApiError(400, "validation_failed", "data must be a JSON object")
    encoded = json.dumps(data)
    # The metadata rides in every access token: a few KiB keep tokens header-sized.
    if len(encoded.encode()) > MAX_METADATA_BYTES:
        raise AuthApiError(
            400,
            "validation_failed",
            f"user metadata must be at most {MAX_METADATA_BYTES // 1024} KiB of JSON",
        )
    if "\\u0000" in encoded:  # jsonb cannot hold it
        raise AuthApiError(400, "validation_failed", "user metadata must not contain NUL")
    return data


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AuthApiError(
            422,
            "weak_password",
            f"Password should be at least {MIN_PASSWORD_LENGTH} characters.",
            {"weak_password": {"reasons": ["length"]}},
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AuthApiError(
            422,
            "validation_failed",
            f"Password cannot be longer than {MAX_PASSWORD_LENGTH} characters",
        )


def _check_email(email: str) -> str:
    email = email.strip().lower()  # GoTrue keeps emails lower-case
    if not EMAIL.match(email) or len(email) > 255:
        raise AuthApiError(
            400, "validation_failed", "Unable to validate email address: invalid format"
        )
    return email


def recovery_link(token: str, site_url: str, redirect_to: str | None, origins: set[str]) -> str:
    """Where the recovery mail points: `redirect_to` when it is on an allowed origin (as
    GoTrue checks its URI allow list), else the site's reset page, with the token hash and
    type as query parameters (Supabase's `{{ .TokenHash }}` template, which the page hands
    to `verifyOtp`)."""
    base = f"{site_url.rstrip('/')}{RESET_PATH}"
    if redirect_to:
        parts = urlsplit(redirect_to)
        if parts.scheme in ("http", "https") and f"{parts.scheme}://{parts.netloc}" in origins:
            base = redirect_to
    parts = urlsplit(base)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("token_hash", "type")] + [
        ("token_hash", token),
        ("type", "recovery"),
    ]
    return urlunsplit(parts._replace(query=urlencode(query), fragment=""))


def auth_router(
    pool: ConnectionPool[Connection],
    issuer: TokenIssuer,
    throttle: AuthThrottle,
    outbox: Outbox,
    site_url: str,
    redirect_origins: set[str],
) -> APIRouter:
    router = APIRouter(prefix="/auth/v1")

    def session_body(
        user: dict[str, Any], session_id: UUID, refresh: str, method: str
    ) -> dict[str, Any]:
        access, exp = issuer.access_token(user, session_id, method)
        return {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": issuer.ttl_seconds,
            "expires_at": exp,
            "refresh_token": refresh,
            "user": user_json(user),
        }

    def sign_up(body: dict[str, Any]) -> dict[str, Any]:
        email, password = _text(body, "email"), _text(body, "password")
        metadata = _metadata(body)
        if _text(body, "phone") is not None:
            raise AuthApiError(422, "phone_provider_disabled", "Phone signups are disabled")
        if email is None and password is None:
            # No credentials at all: GoTrue's anonymous sign-in.
            with pool.connection() as conn:
                user = auth_store.create_user(
                    conn, email=None, password_hash=None, user_metadata=metadata, anonymous=True
                )
                session_id, refresh, user = auth_store.start_session(conn, user["id"])
            return session_body(user, session_id, refresh, "anonymous")
        if email is None:
            raise AuthApiError(400, "validation_failed", "To signup, please provide your email")
        if password is None:
            raise AuthApiError(422, "validation_failed", "Signup requires a valid password")
        email = _check_email(email)
        _check_password(password)
        hashed = hash_password(password)
        with pool.connection() as conn:
            user = auth_store.create_user(
                conn, email=email, password_hash=hashed, user_metadata=metadata, anonymous=False
            )
            session_id, refresh, user = auth_store.start_session(conn, user["id"])
        return session_body(user, session_id, refresh, "password")

    def password_grant(body: dict[str, Any]) -> dict[str, Any]:
        email, password = _text(body, "email"), _text(body, "password")
        if email is None or password is None:
            raise AuthApiError(400, "validation_failed", "A valid email and password are required")
        with pool.connection() as conn:
            user = auth_store.user_by_email(conn, email.strip())
        stored = user["encrypted_password"] if user is not None else None
        if not verify_password(password, stored) or user is None:
            raise AuthApiError(400, "invalid_credentials", "Invalid login credentials")
        with pool.connection() as conn:
            session_id, refresh, user = auth_store.start_session(conn, user["id"])
        return session_body(user, session_id, refresh, "password")

    def refresh_grant(body: dict[str, Any]) -> dict[str, Any]:
        token = _text(body, "refresh_token")
        if token is None:
            raise AuthApiError(400, "validation_failed", "refresh_token required")
        with pool.connection() as conn:
            session_id, refresh, user = auth_store.rotate_refresh_token(conn, token)
        return session_body(user, session_id, refresh, "token_refresh")

    def recover(body: dict[str, Any], redirect_to: str | None) -> dict[str, Any]:
        """GoTrue's POST /recover: mails a recovery link if the address has an account, and
        answers the same `{}` either way, so nobody learns who has one."""
        email = _text(body, "email")
        if email is None:
            raise AuthApiError(400, "validation_failed", "Password recovery requires an email")
        email = _check_email(email)
        with pool.connection() as conn:
            user = auth_store.user_by_email(conn, email)
            if user is None:
                return {}
            token = auth_store.issue_recovery_token(conn, user["id"], email)
        link = recovery_link(token, site_url, redirect_to, redirect_origins)
        outbox.send(
            Mail(
                to=email,
                subject="Reset your knitter password",
                body=(
                    "Someone (hopefully you) asked to reset the password of this knitter"
                    f" account. Open this link within an hour to choose a new one:\n\n{link}\n\n"
                    "If it was not you, ignore this message: your password stays as it is."
                ),
                link=link,
            )
        )
        return {}

    def verify(body: dict[str, Any]) -> dict[str, Any]:
        """GoTrue's POST /verify for `type: recovery` with the mailed token hash: a session
        (authentication method `recovery`) in which `PUT /user` sets the new password."""
        kind = _text(body, "type")
        if kind is None:
            raise AuthApiError(400, "validation_failed", "Verify requires a verification type")
        if kind != "recovery":
            # This stand-in mails nothing else: sign-ups are confirmed at once.
            raise AuthApiError(400, "validation_failed", f"Unsupported verification type: {kind}")
        token_hash = _text(body, "token_hash")
        if token_hash is None:
            raise AuthApiError(400, "validation_failed", "Verify requires a token_hash")
        with pool.connection() as conn:
            user = auth_store.spend_recovery_token(conn, token_hash, RECOVERY_TTL_SECONDS)
            session_id, refresh, user = auth_store.start_session(conn, user["id"])
        return session_body(user, session_id, refresh, "recovery")

    def bearer_claims(request: Request) -> dict[str, Any]:
        """The verified claims of the request's bearer token."""
        token = bearer_token(request)
        if token is None:
            raise AuthApiError(401, "no_authorization", "This endpoint requires a Bearer token")
        try:
            return issuer.verify(token)
        except InvalidToken as exc:
            raise AuthApiError(403, "bad_jwt", str(exc)) from None

    def verified_user(request: Request) -> tuple[dict[str, Any], dict[str, Any]]:
        """The signed-in user behind the request's access token, and its claims."""
        claims = bearer_claims(request)
        if claims.get("role") != "authenticated":
            raise AuthApiError(403, "bad_jwt", "invalid claim: missing sub claim")
        with pool.connection() as conn:
            session_id = claims.get("session_id")
            if session_id and not auth_store.session_exists(conn, str(session_id)):
                raise AuthApiError(
                    403,
                    "session_not_found",
                    "Session from session_id claim in JWT does not exist",
                )
            user = auth_store.user_by_id(conn, str(claims["sub"]))
        if user is None:
            raise AuthApiError(403, "user_not_found", "User from sub claim in JWT does not exist")
        return user, claims

    def update_user(request: Request, body: dict[str, Any]) -> dict[str, Any]:
        """GoTrue's UserUpdate: email, password and user metadata of the signed-in user."""
        user, claims = verified_user(request)
        if body.get("app_metadata") is not None:
            raise AuthApiError(403, "not_admin", "Updating app_metadata requires admin privileges")
        if _text(body, "phone") is not None:
            raise AuthApiError(422, "phone_provider_disabled", "Phone logins are disabled")
        email = _text(body, "email")
        if email is not None:
            email = _check_email(email)
            if email == (user["email"] or ""):
                email = None  # unchanged
        password = _text(body, "password")
        metadata = _metadata(body) if body.get("data") is not None else None
        if password is not None:
            _check_password(password)
            if user["is_anonymous"] and email is None:
                raise AuthApiError(
                    422,
                    "validation_failed",
                    "Updating password of an anonymous user without an email or phone is"
                    " not allowed",
                )
            if verify_password(password, user["encrypted_password"]):
                raise AuthApiError(
                    422, "same_password", "New password should be different from the old password."
                )
        session_id = claims.get("session_id")
        with pool.connection() as conn:
            updated = auth_store.update_user(
                conn,
                user,
                email=email,
                password_hash=hash_password(password) if password is not None else None,
                user_metadata=metadata,
                session_id=str(session_id) if session_id else None,
            )
        return user_json(updated)

    def require_service_role(request: Request) -> None:
        """GoTrue's admin endpoints take the service-role key as the bearer token."""
        if bearer_claims(request).get("role") != "service_role":
            raise AuthApiError(403, "not_admin", "User not allowed")

    def throttled(request: Request, body: dict[str, Any]) -> None:
        email = body.get("email")
        address = request.client.host if request.client else "unknown"
        throttle.check(address, email if isinstance(email, str) else None)

    @router.post("/signup")
    async def signup(request: Request) -> JSONResponse:
        body = await _body(request)
        throttled(request, body)
        return _ok(await run_in_threadpool(sign_up, body))

    @router.post("/token")
    async def token(request: Request, grant_type: str = "") -> JSONResponse:
        body = await _body(request)
        if grant_type == "password":
            throttled(request, body)
            return _ok(await run_in_threadpool(password_grant, body))
        if grant_type == "refresh_token":
            return _ok(await run_in_threadpool(refresh_grant, body))
        raise AuthApiError(400, "validation_failed", "unsupported_grant_type")

    @router.post("/recover")
    async def post_recover(request: Request, redirect_to: str | None = None) -> JSONResponse:
        body = await _body(request)
        throttled(request, body)
        return _ok(await run_in_threadpool(recover, body, redirect_to))

    @router.post("/verify")
    async def post_verify(request: Request) -> JSONResponse:
        body = await _body(request)
        throttled(request, {})
        return _ok(await run_in_threadpool(verify, body))

    @router.get("/user")
    async def get_user(request: Request) -> JSONResponse:
        user, _ = await run_in_threadpool(verified_user, request)
        return _ok(user_json(user))

    @router.put("/user")
    async def put_user(request: Request) -> JSONResponse:
        """A new email, password or metadata; a guest who adds an email and password becomes
        a permanent user with the same id (and data). The session's token still says
        is_anonymous until it is refreshed, as with GoTrue."""
        body = await _body(request)
        return _ok(await run_in_threadpool(update_user, request, body))

    @router.post("/logout")
    async def logout(request: Request, scope: str = "global") -> Response:
        if scope not in LOGOUT_SCOPES:
            raise AuthApiError(400, "validation_failed", "scope must be global, local or others")

        def end() -> None:
            user, claims = verified_user(request)
            session_id = claims.get("session_id")
            with pool.connection() as conn:
                auth_store.end_sessions(
                    conn, str(user["id"]), str(session_id) if session_id else None, scope
                )

        await run_in_threadpool(end)
        return Response(status_code=204, headers={API_VERSION_HEADER: API_VERSION})

    @router.delete("/admin/users/{user_id}")
    async def admin_delete_user(request: Request, user_id: str) -> JSONResponse:
        """Deletes the user; the database's cascades remove everything they own."""

        def delete() -> None:
            require_service_role(request)
            try:
                UUID(user_id)
            except ValueError:
                raise AuthApiError(404, "user_not_found", "User not found") from None
            with pool.connection() as conn:
                if not delete_auth_row(conn, user_id):
                    raise AuthApiError(404, "user_not_found", "User not found")

        await run_in_threadpool(delete)
        return _ok({})

    @router.get("/.well-known/jwks.json")
    async def jwks() -> JSONResponse:
        # Only the symmetric (HS256) secret signs here; it is never published.
        return _ok({"keys": []})

    @router.get("/settings")
    async def settings() -> JSONResponse:
        return _ok(
            {
                "external": {"email": True, "phone": False, "anonymous_users": True},
                "disable_signup": False,
                "mailer_autoconfirm": True,
                "phone_autoconfirm": False,
                "sms_provider": "",
                "saml_enabled": False,
            }
        )

    @router.get("/health")
    async def health() -> JSONResponse:
        return _ok({"name": "GoTrue", "version": "knitter-local", "description": "local stand-in"})

    return router


async def _body(request: Request) -> dict[str, Any]:
    try:
        return await json_object(request)
    except BadBody as exc:
        raise AuthApiError(400, "bad_json", str(exc)) from None
