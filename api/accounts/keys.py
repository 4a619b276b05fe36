"""Users' own provider keys: stored sealed, described without the secret, opened for use
(which key a call uses is api/providers/choice.py's decision)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from uuid import UUID

import psycopg

from api.accounts.keyring import Keyring, KeyringError, Sealed
from api.db.session import Caller, Connection, transaction_as
from api.errors import NotFoundError

Provider = Literal["openai", "gemini"]
REMOTE_PROVIDERS: tuple[Provider, ...] = ("openai", "gemini")


@dataclass(frozen=True)
class KeyInfo:
    provider: str
    last_four: str
    updated_at: datetime


def _require(keyring: Keyring | None) -> Keyring:
    if keyring is None:
        raise KeyringError("storing API keys needs ENCRYPTION_KEY on the server")
    return keyring


def store(
    conn: Connection, keyring: Keyring | None, user_id: UUID, provider: Provider, secret: str
) -> KeyInfo:
    sealed = _require(keyring).seal(secret, user_id, provider)
    values = [user_id, provider, sealed.ciphertext, sealed.nonce, sealed.key_version]
    try:
        with transaction_as(conn, Caller.service()):
            row = conn.execute(
                """
                insert into public.api_keys (user_id, provider, ciphertext, nonce, key_version,
                                             last_four)
                values (%s, %s, %s, %s, %s, %s)
                on conflict (user_id, provider) do update
                  set ciphertext = excluded.ciphertext, nonce = excluded.nonce,
                      key_version = excluded.key_version, last_four = excluded.last_four,
                      updated_at = now()
                returning provider, last_four, updated_at
                """,
                [*values, secret[-4:]],
            ).fetchone()
    except psycopg.errors.ForeignKeyViolation:
        # A valid token whose account was deleted since: nothing to store the key for.
        raise NotFoundError("the account of this token no longer exists") from None
    assert row is not None
    return KeyInfo(**row)


def describe(conn: Connection, caller: Caller, provider: Provider) -> KeyInfo | None:
    """What the user may see of their key, read as the user (RLS, column grants)."""
    with transaction_as(conn, caller):
        row = conn.execute(
            "select provider, last_four, updated_at from public.api_keys"
            " where user_id = auth.uid() and provider = %s",
            [provider],
        ).fetchone()
    return KeyInfo(**row) if row else None


def delete(conn: Connection, caller: Caller, provider: Provider) -> bool:
    with transaction_as(conn, caller):
        return (
            conn.execute(
                "delete from public.api_keys where user_id = auth.uid() and provider = %s",
                [provider],
            ).rowcount
            > 0
        )


def user_key(conn: Connection, keyring: Keyring | None, user_id: UUID, provider: str) -> str | None:
    """The user's own key in plaintext, re-sealed with the current key version if it was
    written with an older one."""
    with transaction_as(conn, Caller.service()):
        row = conn.execute(
            "select ciphertext, nonce, key_version from public.api_keys"
            " where user_id = %s and provider = %s",
            [user_id, provider],
        ).fetchone()
        if row is None:
            return None
        ring = _require(keyring)
        secret = ring.open(
            Sealed(row["ciphertext"], row["nonce"], row["key_version"]), user_id, provider
        )
        if row["key_version"] != ring.version:
            fresh = ring.seal(secret, user_id, provider)
            conn.execute(
                "update public.api_keys set ciphertext = %s, nonce = %s, key_version = %s"
                " where user_id = %s and provider = %s",
                [fresh.ciphertext, fresh.nonce, fresh.key_version, user_id, provider],
            )
    return secret
