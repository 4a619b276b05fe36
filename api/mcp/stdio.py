"""`knitter mcp`: the MCP server over stdio, for a local client (Claude Desktop, Claude
Code, Cursor) that starts it as a subprocess.

It acts for one principal: a personal access token (KNITTER_TOKEN, checked again on every
call, so revoking it takes effect at once) or, on a database the command may open anyway,
a user named by email (read-write). stdout carries the protocol only; anything else goes
to stderr."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from uuid import UUID

from pydantic import SecretStr

from api.accounts.access_tokens import Principal
from api.accounts.keyring import Keyring
from api.accounts.users import caller_for
from api.config import Settings
from api.db.local import database
from api.db.session import Connection
from api.errors import KnitterError
from api.http.auth import AuthError, TokenVerifier
from api.mcp.auth import Authenticator
from api.mcp.server import create_server
from api.mcp.tools import Backend
from api.pipeline.embedding_queue import drain
from api.providers.choice import key_for


def serve(settings: Settings, *, token: SecretStr | None, email: str | None) -> None:
    """Serves stdio until the client closes it. The token or user is checked before the
    server starts, so a bad one is a one-line error rather than a silent server."""
    with database(settings) as conn:
        lock = threading.Lock()  # one connection; tool calls run in threads

        @contextmanager
        def connection() -> Iterator[Connection]:
            with lock:
                yield conn

        keyring = Keyring.from_settings(settings)

        def embed_new(conn: Connection, ws: UUID, user_id: UUID | None) -> None:
            # No worker runs beside stdio: embed the note now, its static vector then its
            # quality one (a model that cannot, say for want of a key, leaves it queued and
            # keyword-searchable).
            keys = key_for(conn, keyring, settings, user_id)
            drain(conn, ws, key_for=keys, max_batches=2, on_unavailable=lambda _: None)

        backend = Backend(settings, connection, keyring, after_write=embed_new)
        if token is not None:
            secret = settings.supabase_jwt_secret
            verifier = TokenVerifier(
                jwt_secret=secret.get_secret_value() if secret else None,
                jwks_url=settings.jwks_url,
            )
            authenticator = Authenticator(backend, verifier)
            plain = token.get_secret_value()
            try:
                authenticator.principal(plain)  # refuses a bad token now
            except AuthError as exc:
                raise KnitterError(f"KNITTER_TOKEN: {exc}") from None

            def principal_of(_: object) -> Principal:
                return authenticator.principal(plain)
        else:
            assert email is not None
            fixed = Principal(caller_for(conn, email), "read-write")

            def principal_of(_: object) -> Principal:
                return fixed

        create_server(backend, principal_of).run("stdio")
