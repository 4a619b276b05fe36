"""Invitations by email are claimed with the link the inviter was given, never by holding
the address: through the real gateway and supabase-py, as an attacker would try it."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from postgrest.exceptions import APIError

from api.db.session import Connection
from supabase import Client
from tests.test_gateway import Gateway, caller_of, client, gateway, signed_up

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:supabase.*")
SHARED_FIXTURES = (gateway,)


def rpc(sb: Client, name: str, args: dict[str, Any] | None = None) -> Any:
    return sb.rpc(name, args or {}).execute().data


def refused(sb: Client, name: str, args: dict[str, Any]) -> APIError:
    with pytest.raises(APIError) as error:
        sb.rpc(name, args).execute()
    return error.value


def members(conn: Connection, workspace: str) -> list[str]:
    rows = conn.execute(
        "select user_id::text as id from public.workspace_members where workspace_id = %s"
        " order by user_id",
        [workspace],
    ).fetchall()
    return [r["id"] for r in rows]


def invited(gateway: Gateway, role: str = "editor") -> tuple[Client, str, str, str]:
    """An owner's team and an open invitation to an address nobody has signed up with."""
    owner, _ = signed_up(gateway)
    team = rpc(owner, "create_workspace", {"name": "Secret team"})
    address = f"new-{uuid.uuid4().hex[:10]}@example.com"
    invitation = rpc(
        owner, "invite_to_workspace", {"workspace_id": team, "email": address, "role": role}
    )
    return owner, team, address, invitation


def test_a_guest_who_takes_the_invited_address_does_not_join(
    gateway: Gateway, conn: Connection
) -> None:
    owner, team, address, invitation = invited(gateway)
    before = members(conn, team)
    guest = client(gateway)
    guest.auth.sign_in_anonymously()
    # The local gateway (like Supabase with "Confirm email" off) sets the address at once.
    guest.auth.update_user({"email": address})
    guest.auth.refresh_session()
    assert rpc(guest, "list_my_invitations") == []
    assert refused(guest, "accept_invitation", {"invitation_id": invitation}).code == "PT404"
    assert refused(guest, "decline_invitation", {"invitation_id": invitation}).code == "PT404"
    wrong = {"invitation_id": invitation, "token": "0" * 64}
    assert refused(guest, "accept_invitation", wrong).code == "PT404"
    assert members(conn, team) == before
    assert [i["id"] for i in rpc(owner, "list_workspace_invitations", {"workspace_id": team})] == [
        invitation
    ]


def test_the_link_lets_its_holder_join_once_with_the_invited_role(
    gateway: Gateway, conn: Connection
) -> None:
    owner, team, _, invitation = invited(gateway, role="editor")
    token = rpc(owner, "issue_invitation_link", {"invitation_id": invitation})
    assert isinstance(token, str) and len(token) == 64
    # Only the hash is kept.
    row = conn.execute(
        "select token_hash from public.workspace_invitations where id = %s", [invitation]
    ).fetchone()
    assert row is not None and token not in str(row["token_hash"])
    # Someone else cannot issue the link; a guest holding it cannot use it.
    stranger, _ = signed_up(gateway)
    assert refused(stranger, "issue_invitation_link", {"invitation_id": invitation}).code == (
        "42501"
    )
    guest = client(gateway)
    guest.auth.sign_in_anonymously()
    link = {"invitation_id": invitation, "token": token}
    assert refused(guest, "accept_invitation", link).code == "42501"
    # A new link replaces the old one.
    fresh = rpc(owner, "issue_invitation_link", {"invitation_id": invitation})
    assert fresh != token
    assert refused(stranger, "accept_invitation", link).code == "PT404"
    # Whoever signs in with the current link joins (any address: the link is the proof).
    joiner, _ = signed_up(gateway)
    assert rpc(joiner, "accept_invitation", {"invitation_id": invitation, "token": fresh}) == team
    role = conn.execute(
        "select role::text as role from public.workspace_members"
        " where workspace_id = %s and user_id = %s",
        [team, caller_of(joiner).user_id],
    ).fetchone()
    assert role is not None and role["role"] == "editor"
    used = {"invitation_id": invitation, "token": fresh}
    assert refused(stranger, "accept_invitation", used).code == "PT404"
    assert str(caller_of(stranger).user_id) not in members(conn, team)


def test_links_expire_and_can_be_declined(gateway: Gateway, conn: Connection) -> None:
    owner, team, _, invitation = invited(gateway)
    token = rpc(owner, "issue_invitation_link", {"invitation_id": invitation})
    holder, _ = signed_up(gateway)
    conn.execute(
        "update public.workspace_invitations set token_expires_at = now() - interval '1 second'"
        " where id = %s",
        [invitation],
    )
    link = {"invitation_id": invitation, "token": token}
    assert refused(holder, "accept_invitation", link).code == "PT404"
    # A fresh link works again; declining it closes the invitation.
    token = rpc(owner, "issue_invitation_link", {"invitation_id": invitation})
    link = {"invitation_id": invitation, "token": token}
    assert rpc(holder, "decline_invitation", link) is True
    assert refused(holder, "accept_invitation", link).code == "PT404"
    # Answered: no new link; another owner's invitation is not this owner's to link.
    assert refused(owner, "issue_invitation_link", {"invitation_id": invitation}).code == "PT404"
    _, _, _, second = invited(gateway)
    assert refused(owner, "issue_invitation_link", {"invitation_id": second}).code == "42501"
    assert str(caller_of(holder).user_id) not in members(conn, team)


def test_a_revoked_link_is_dead(gateway: Gateway, conn: Connection) -> None:
    owner, team, _, invitation = invited(gateway)
    token = rpc(owner, "issue_invitation_link", {"invitation_id": invitation})
    assert rpc(owner, "revoke_invitation", {"invitation_id": invitation}) is True
    holder, _ = signed_up(gateway)
    link = {"invitation_id": invitation, "token": token}
    assert refused(holder, "accept_invitation", link).code == "PT404"
    assert str(caller_of(holder).user_id) not in members(conn, team)


def test_invitations_by_user_id_need_no_link_but_links_are_for_email_invitations(
    gateway: Gateway,
) -> None:
    owner, _ = signed_up(gateway)
    invitee, _ = signed_up(gateway)
    team = rpc(owner, "create_workspace", {"name": "By id"})
    invitation = rpc(
        owner,
        "invite_to_workspace",
        {"workspace_id": team, "invitee_id": str(caller_of(invitee).user_id)},
    )
    assert refused(owner, "issue_invitation_link", {"invitation_id": invitation}).code == "22023"
    assert [i["id"] for i in rpc(invitee, "list_my_invitations")] == [invitation]
    assert rpc(invitee, "accept_invitation", {"invitation_id": invitation}) == team
