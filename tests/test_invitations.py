"""Workspaces, invitations and members through the real supabase-py client against the
local gateway: nobody joins without accepting, and before they do nothing of the workspace
reaches their search, threads or suggestions."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from postgrest.exceptions import APIError

from api.db.session import Connection, transaction_as
from api.importers.model import Conversation, Message
from api.pipeline.ingest import write_conversation
from supabase import Client
from tests.test_gateway import Gateway, caller_of, client, gateway, signed_up

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:supabase.*")
# The gateway fixture of test_gateway (a real uvicorn server), shared by name.
SHARED_FIXTURES = (gateway,)


def rpc(sb: Client, name: str, args: dict[str, Any] | None = None) -> Any:
    return sb.rpc(name, args or {}).execute().data


def refused(sb: Client, name: str, args: dict[str, Any]) -> APIError:
    with pytest.raises(APIError) as error:
        sb.rpc(name, args).execute()
    return error.value


def user_id(sb: Client) -> str:
    return str(caller_of(sb).user_id)


def plant(conn: Connection, owner: Client, workspace: str, word: str) -> None:
    conversation = Conversation(
        kind="text",
        platform="notes",
        title=f"{word} plans",
        messages=[Message(role="document", text=f"The {word} plan is ready to ship.")],
    )
    write_conversation(conn, caller_of(owner), uuid.UUID(workspace), conversation)


def searched(sb: Client, word: str) -> list[str]:
    return [r["content"] for r in rpc(sb, "hybrid_search", {"query_text": word})]


def test_nothing_of_a_workspace_reaches_an_invitee_before_they_accept(
    gateway: Gateway, conn: Connection
) -> None:
    owner, _ = signed_up(gateway)
    invitee, invitee_email = signed_up(gateway)
    word = f"zq{uuid.uuid4().hex[:8]}"
    team = rpc(owner, "create_workspace", {"name": "Launch team"})
    plant(conn, owner, team, word)
    with transaction_as(conn, caller_of(owner)):
        conn.execute(
            "with t as (insert into public.topic_threads (workspace_id, title, title_source)"
            " values (%s, %s, 'user') returning id)"
            " update public.sources set thread_id = (select id from t) where workspace_id = %s",
            [team, f"{word} thread", team],
        )

    invitation = rpc(
        owner,
        "invite_to_workspace",
        {"workspace_id": team, "email": invitee_email.upper(), "role": "editor"},
    )
    # By email: listed for the owner (lower case), claimed with the link's token.
    listed = rpc(owner, "list_workspace_invitations", {"workspace_id": team})
    assert [(i["id"], i["email"], i["role"]) for i in listed] == [
        (invitation, invitee_email, "editor")
    ]
    link = {
        "invitation_id": invitation,
        "token": rpc(owner, "issue_invitation_link", {"invitation_id": invitation}),
    }
    # Invited but not yet accepted: the workspace is nowhere.
    assert searched(invitee, word) == []
    assert rpc(invitee, "search_suggestions", {"prefix": word}) == []
    assert rpc(invitee, "list_topic_threads", {"workspace_id": team}) == []
    assert team not in {w["id"] for w in rpc(invitee, "list_workspaces")}
    assert refused(invitee, "list_workspace_members", {"workspace_id": team}).code == "PT404"

    assert rpc(invitee, "accept_invitation", link) == team
    assert searched(invitee, word) == [f"The {word} plan is ready to ship."]
    assert [s["suggestion"] for s in rpc(invitee, "search_suggestions", {"prefix": word})] == [
        f"{word} plans"
    ]
    threads = rpc(invitee, "list_topic_threads", {"workspace_id": team})
    assert [t["title"] for t in threads] == [f"{word} thread"]
    roles = {w["id"]: w["role"] for w in rpc(invitee, "list_workspaces")}
    assert roles[team] == "editor"
    members = rpc(invitee, "list_workspace_members", {"workspace_id": team})
    assert [(m["email"], m["role"]) for m in members] == [
        (members[0]["email"], "owner"),
        (invitee_email, "editor"),
    ]
    assert rpc(invitee, "list_my_invitations") == []
    # Accepted once: it cannot be accepted again.
    assert refused(invitee, "accept_invitation", link).code == "PT404"


def test_declined_and_revoked_invitations_add_nobody(gateway: Gateway) -> None:
    owner, _ = signed_up(gateway)
    invitee, _ = signed_up(gateway)
    team = rpc(owner, "create_workspace", {"name": "Decliners"})
    first = rpc(
        owner, "invite_to_workspace", {"workspace_id": team, "invitee_id": user_id(invitee)}
    )
    assert rpc(invitee, "decline_invitation", {"invitation_id": first}) is True
    assert refused(invitee, "accept_invitation", {"invitation_id": first}).code == "PT404"
    second = rpc(
        owner, "invite_to_workspace", {"workspace_id": team, "invitee_id": user_id(invitee)}
    )
    listed = rpc(owner, "list_workspace_invitations", {"workspace_id": team})
    assert [i["id"] for i in listed] == [second]
    assert rpc(owner, "revoke_invitation", {"invitation_id": second}) is True
    assert refused(invitee, "accept_invitation", {"invitation_id": second}).code == "PT404"
    assert team not in {w["id"] for w in rpc(invitee, "list_workspaces")}


def test_only_owners_invite_and_nobody_adds_members_directly(
    gateway: Gateway, conn: Connection
) -> None:
    owner, _ = signed_up(gateway)
    viewer, _ = signed_up(gateway)
    stranger, _ = signed_up(gateway)
    team = rpc(owner, "create_workspace", {"name": "Owners only"})
    invitation = rpc(
        owner, "invite_to_workspace", {"workspace_id": team, "invitee_id": user_id(viewer)}
    )
    rpc(viewer, "accept_invitation", {"invitation_id": invitation})
    for caller in (viewer, stranger):
        error = refused(
            caller, "invite_to_workspace", {"workspace_id": team, "invitee_id": user_id(stranger)}
        )
        assert error.code == "42501"
    # An invitation someone else holds is not theirs to accept.
    pending = rpc(
        owner, "invite_to_workspace", {"workspace_id": team, "email": "later@example.com"}
    )
    assert refused(stranger, "accept_invitation", {"invitation_id": pending}).code == "PT404"
    # A personal workspace takes no members; an invitation needs exactly one invitee.
    personal = next(w["id"] for w in rpc(owner, "list_workspaces") if w["is_personal"])
    error = refused(
        owner, "invite_to_workspace", {"workspace_id": personal, "invitee_id": user_id(stranger)}
    )
    assert error.code == "22023"
    assert refused(owner, "invite_to_workspace", {"workspace_id": team}).code == "22023"
    assert refused(owner, "invite_to_workspace", {"workspace_id": team, "email": "nope"}).code == (
        "22023"
    )
    # Already a member: a conflict, not a second membership.
    error = refused(
        owner, "invite_to_workspace", {"workspace_id": team, "invitee_id": user_id(viewer)}
    )
    assert error.code == "23505"


def test_members_leave_owners_manage_and_the_last_owner_hands_over(gateway: Gateway) -> None:
    owner, _ = signed_up(gateway)
    member, _ = signed_up(gateway)
    team = rpc(owner, "create_workspace", {"name": "Handover"})
    rpc(owner, "rename_workspace", {"workspace_id": team, "name": "Handover team"})
    names = {w["id"]: w["name"] for w in rpc(owner, "list_workspaces")}
    assert names[team] == "Handover team"
    invite = rpc(
        owner, "invite_to_workspace", {"workspace_id": team, "invitee_id": user_id(member)}
    )
    rpc(member, "accept_invitation", {"invitation_id": invite})
    assert refused(member, "rename_workspace", {"workspace_id": team, "name": "Mine"}).code == (
        "42501"
    )
    assert refused(owner, "leave_workspace", {"workspace_id": team}).code == "42501"
    error = refused(
        owner,
        "set_member_role",
        {"workspace_id": team, "member_id": user_id(owner), "role": "editor"},
    )
    assert error.code == "42501"
    # Hand over, then the first owner may leave; the new owner owns it.
    rpc(
        owner,
        "set_member_role",
        {"workspace_id": team, "member_id": user_id(member), "role": "owner"},
    )
    assert rpc(owner, "leave_workspace", {"workspace_id": team}) is True
    assert team not in {w["id"] for w in rpc(owner, "list_workspaces")}
    assert rpc(member, "rename_workspace", {"workspace_id": team, "name": "Now mine"}) is True
    # A viewer added later leaves on their own; an owner removes another member.
    viewer, _ = signed_up(gateway)
    third, _ = signed_up(gateway)
    for person in (viewer, third):
        invitation = rpc(
            member, "invite_to_workspace", {"workspace_id": team, "invitee_id": user_id(person)}
        )
        rpc(person, "accept_invitation", {"invitation_id": invitation})
    assert rpc(viewer, "leave_workspace", {"workspace_id": team}) is True
    assert (
        refused(
            third, "remove_workspace_member", {"workspace_id": team, "member_id": user_id(member)}
        ).code
        == "42501"
    )
    assert (
        rpc(member, "remove_workspace_member", {"workspace_id": team, "member_id": user_id(third)})
        is True
    )
    members = rpc(member, "list_workspace_members", {"workspace_id": team})
    assert [m["user_id"] for m in members] == [user_id(member)]


def test_guests_cannot_create_workspaces_or_invite(gateway: Gateway) -> None:
    guest = client(gateway)
    guest.auth.sign_in_anonymously()
    assert refused(guest, "create_workspace", {"name": "Guest team"}).code == "42501"
    assert refused(client(gateway), "create_workspace", {"name": "Anon team"}).code == "42501"


def test_workspace_names_are_checked(gateway: Gateway) -> None:
    owner, _ = signed_up(gateway)
    assert refused(owner, "create_workspace", {"name": "   "}).code == "22023"
    assert refused(owner, "create_workspace", {"name": "x" * 201}).code == "22023"


def test_rpcs_run_under_supabases_statement_timeouts(gateway: Gateway, conn: Connection) -> None:
    """The gateway applies Supabase's per-role statement timeouts, as PostgREST applies the
    role's settings: 8 s for authenticated, 3 s for anon."""
    suffix = uuid.uuid4().hex[:8]
    conn.execute(
        f"create function public.test_timeout_{suffix}() returns text language sql stable"
        " as $$ select current_setting('statement_timeout') $$;"
        f" grant execute on function public.test_timeout_{suffix}() to anon"
    )
    try:
        sb, _ = signed_up(gateway)
        assert rpc(sb, f"test_timeout_{suffix}") == "8s"
        assert rpc(client(gateway), f"test_timeout_{suffix}") == "3s"
    finally:
        conn.execute(f"drop function public.test_timeout_{suffix}()")
