"""Personal access tokens (access_tokens migration): what a presented token stands for.

Tokens are made, listed and revoked by their owners through RPCs
(`create_access_token`, `list_access_tokens`, `revoke_access_token`); the database keeps
only their SHA-256. Here the API resolves one, as the service role, to the user it acts
for and its scope. The token itself is never logged nor put in an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from uuid import UUID

from api.db.session import Caller, Connection, transaction_as
from api.errors import KnitterError

PREFIX = "knt_"
Scope = Literal["read", "read-write"]


class TokenRefused(KnitterError):
    """The token is unknown, revoked or expired; the message is safe to show."""


@dataclass(frozen=True)
class Principal:
    """Who a request acts for: the user (as RLS sees them), what the token may do, and the
    key its rate limit is counted under."""

    caller: Caller
    scope: Scope
    token_id: UUID | None = None

    @property
    def can_write(self) -> bool:
        return self.scope == "read-write"

    @property
    def rate_key(self) -> str:
        return f"token:{self.token_id}" if self.token_id else f"user:{self.caller.user_id}"


def is_access_token(token: str) -> bool:
    return token.startswith(PREFIX)


def resolve(conn: Connection, token: str) -> Principal:
    """The principal of a personal access token, or TokenRefused."""
    with transaction_as(conn, Caller.service()):
        row = conn.execute(
            "select * from public.resolve_access_token(%s)", [token.strip()]
        ).fetchone()
    if row is None:
        raise TokenRefused("unknown access token")
    if row["revoked_at"] is not None:
        raise TokenRefused("the access token has been revoked")
    if row["expires_at"] <= datetime.now(UTC):
        raise TokenRefused("the access token has expired")
    caller = Caller.user(row["user_id"], row["email"], anonymous=row["is_anonymous"])
    return Principal(caller, row["scope"], row["id"])
