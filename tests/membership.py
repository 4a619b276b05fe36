"""Joining a workspace as people do it: the owner invites, the invitee accepts (RPCs)."""

from __future__ import annotations

from uuid import UUID

from api.db.session import Caller, Connection, transaction_as


def add_member(
    conn: Connection, owner: Caller, workspace: UUID, member: Caller, role: str = "viewer"
) -> None:
    with transaction_as(conn, owner):
        row = conn.execute(
            "select public.invite_to_workspace(%s, invitee_id => %s, role => %s) as id",
            [workspace, member.user_id, role],
        ).fetchone()
    assert row is not None
    with transaction_as(conn, member):
        conn.execute("select public.accept_invitation(%s)", [row["id"]])
