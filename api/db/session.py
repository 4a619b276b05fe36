"""Connections, and transactions that run as a user exactly as PostgREST runs them.

Inside the transaction: `set local role authenticated` and the JWT claims in
`request.jwt.claims`, so `auth.uid()` and every RLS policy see the caller.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import dict_row

from api.errors import KnitterError

Connection = psycopg.Connection[dict[str, Any]]

# The role the API switches into for the writes only it may make (passages, job states,
# model answers, summaries): a member of `authenticated`, so RLS still applies as the user.
API_WRITER_ROLE = "knitter_api"


@dataclass(frozen=True)
class Caller:
    """Who a transaction runs as: a role and the JWT claims PostgREST would set."""

    role: str
    claims: dict[str, Any]

    @classmethod
    def user(cls, user_id: UUID, email: str | None = None, *, anonymous: bool = False) -> Caller:
        claims = {
            "sub": str(user_id),
            "role": "authenticated",
            "aud": "authenticated",
            "email": email,
            "is_anonymous": anonymous,
        }
        return cls("authenticated", claims)

    @classmethod
    def service(cls) -> Caller:
        return cls("service_role", {"role": "service_role"})

    @classmethod
    def anon(cls) -> Caller:
        return cls("anon", {"role": "anon"})

    def as_writer(self) -> Caller:
        """The same user as the API's writer role (see docs/ACCESS.md); others unchanged."""
        if self.role != "authenticated":
            return self
        return Caller(API_WRITER_ROLE, self.claims)

    @property
    def user_id(self) -> UUID | None:
        sub = self.claims.get("sub")
        return UUID(sub) if sub else None


def connect(url: str) -> Connection:
    try:
        return psycopg.connect(url, row_factory=dict_row, connect_timeout=10)
    except psycopg.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise KnitterError(f"cannot connect to the database: {first}") from exc


@contextmanager
def transaction_as(conn: Connection, caller: Caller) -> Iterator[Connection]:
    """One transaction in which every statement runs as the caller."""
    with conn.transaction():
        # The role and the claims in one round trip, as PostgREST sets them
        # (`set_config('role', …, true)` is `set local role`).
        conn.execute(
            "select set_config('role', %s, true), set_config('request.jwt.claims', %s, true)",
            [caller.role, json.dumps(caller.claims)],
        )
        yield conn


@contextmanager
def pipelined_as(conn: Connection, caller: Caller) -> Iterator[Connection]:
    """`transaction_as` in pipeline mode: a statement is sent without waiting for the one
    before, so BEGIN, the role and the first query share one round trip and a statement
    whose result is not read waits for none. An error surfaces at the next read of a
    result or at the commit, not at its `execute`."""
    with conn.pipeline(), transaction_as(conn, caller):
        yield conn
