"""Who an MCP request acts for: a personal access token (`knt_…`, looked up by its hash)
or a Supabase access token (a signed-in session, which may read and write)."""

from __future__ import annotations

from dataclasses import dataclass

from api.accounts.access_tokens import Principal, is_access_token, resolve
from api.http.auth import TokenVerifier
from api.mcp.tools import Backend


@dataclass
class Authenticator:
    backend: Backend
    verifier: TokenVerifier

    def principal(self, token: str) -> Principal:
        """The principal of a bearer token; AuthError or TokenRefused (with a message safe
        to return, never the token) when it is not acceptable."""
        if is_access_token(token):
            with self.backend.connection() as conn:
                return resolve(conn, token)
        return Principal(self.verifier.caller(token), "read-write")
