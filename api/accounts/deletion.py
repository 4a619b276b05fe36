"""Deleting an account: the auth user goes, and with it, by cascade, everything the user
owns (workspaces with their sources, passages, embeddings, topic threads and queue rows;
memberships, keys, import jobs, search history, micro-threads). Sources they added to
other people's workspaces stay with the workspace (their `created_by` becomes null): that
data is the owner's."""

from __future__ import annotations

from uuid import UUID

import httpx

from api.config import Settings
from api.db.session import Connection
from api.errors import KnitterError

ADMIN_TIMEOUT_SECONDS = 15


def delete_user(conn: Connection, settings: Settings, user_id: UUID) -> bool:
    """Deletes the user; False if there is no such user. On a Supabase project
    (SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY set) through Supabase Auth's admin API, which
    also ends their sessions; elsewhere (the local stack, plain PostgreSQL) the auth.users
    row directly."""
    key = settings.supabase_secret_key or settings.supabase_service_role_key
    if settings.supabase_url and key is not None:
        return _delete_through_auth(settings.supabase_url, key.get_secret_value(), user_id)
    return delete_auth_row(conn, user_id)


def delete_auth_row(conn: Connection, user_id: UUID | str) -> bool:
    """As the connection's own role: on Supabase `postgres` may, the API roles
    (authenticated, service_role) may not touch auth.users."""
    with conn.transaction():
        return conn.execute("delete from auth.users where id = %s", [user_id]).rowcount > 0


def _delete_through_auth(supabase_url: str, service_key: str, user_id: UUID) -> bool:
    url = f"{supabase_url.rstrip('/')}/auth/v1/admin/users/{user_id}"
    headers = {"apikey": service_key}
    if not service_key.startswith("sb_secret_"):  # a secret key is no JWT: apikey alone
        headers["Authorization"] = f"Bearer {service_key}"
    try:
        response = httpx.delete(url, headers=headers, timeout=ADMIN_TIMEOUT_SECONDS)
    except httpx.HTTPError as exc:
        raise KnitterError(f"Supabase Auth is unreachable: {type(exc).__name__}") from None
    if response.status_code == 404:
        return False
    if response.status_code >= 400:
        # GoTrue's error body names the problem; it never holds the key.
        raise KnitterError(f"Supabase Auth refused to delete the user ({response.status_code})")
    return True
