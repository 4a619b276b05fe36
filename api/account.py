"""Deleting an account: the auth user goes, and with it, by cascade, everything the user
owns (workspaces with their sources, passages, embeddings and queue rows; memberships,
keys, import jobs, search history). Sources they added to other people's workspaces stay
with the workspace (their `created_by` becomes null): that data is the owner's."""

from __future__ import annotations

from uuid import UUID

from api.db.session import Connection


def delete_user(conn: Connection, user_id: UUID) -> bool:
    """Deletes the auth user, as the API's own database role: on Supabase the `postgres`
    role may, the API roles (authenticated, service_role) may not touch auth.users."""
    with conn.transaction():
        return conn.execute("delete from auth.users where id = %s", [user_id]).rowcount > 0
