"""Who an MCP request acts for: a personal access token (`knt_…`, looked up by its hash)
or a Supabase access token (a signed-in session, which may read and write)."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass

from api.accounts.access_tokens import Principal, TokenRefused, is_access_token, resolve
from api.http.auth import TokenVerifier
from api.mcp.tools import Backend
from api.rate_limits import RateLimited

SCOPE = "mcp-token"


@dataclass
class Authenticator:
    backend: Backend
    verifier: TokenVerifier

    def principal(self, token: str, address: str | None = None) -> Principal:
        """The principal of a bearer token; AuthError or TokenRefused (with a message safe
        to return, never the token) when it is not acceptable. Over HTTP (`address` given),
        access tokens refused to an address are counted: past AUTH_RATE_LIMIT of them it
        is RateLimited before any look-up, so made-up tokens cannot keep the database
        busy (a Supabase token is checked by its signature, without the database)."""
        if not is_access_token(token):
            return Principal(self.verifier.caller(token), "read-write")
        limits, limit = self.backend.rate_limits, self.backend.settings.auth_rate_limit
        if address is not None:
            limits.check_left(limit, SCOPE, address)
        try:
            with self.backend.connection() as conn:
                return resolve(conn, token)
        except TokenRefused:
            if address is not None:
                with suppress(RateLimited):  # this refusal is the answer; the next waits
                    limits.check(limit, SCOPE, address)
            raise
