"""Settings → Workspaces in Chromium: create and rename a team workspace, invite by email,
copy the invite link, the invitee opens it and accepts (and only then sees the workspace),
the owner changes their role, they leave."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.conftest import DevStack
from tests.e2e.pages import MARKS, new_page, shot, sign_up

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = MARKS


def settings(page: Page) -> None:
    page.get_by_role("link", name="Settings", exact=True).click()
    page.get_by_role("heading", name="Workspaces").wait_for()


def test_invite_accept_change_role_and_leave(dev: DevStack, browser: Browser) -> None:
    errors: list[str] = []
    owner = new_page(browser, dev.origin, errors)
    sign_up(owner, "garden-owner@example.com")
    settings(owner)
    create = owner.get_by_role("form", name="New workspace")
    create.get_by_label("New workspace").fill("Garden club")
    create.get_by_role("button", name="Create").click()
    team = owner.get_by_role("list", name="Team workspaces").get_by_role("listitem").first
    team.get_by_label("Name").fill("Garden society")
    team.get_by_role("button", name="Rename").click()
    owner.get_by_role("listitem", name="Garden society").wait_for()
    team = owner.get_by_role("listitem", name="Garden society")

    invitee = new_page(browser, dev.origin, errors)
    sign_up(invitee, "garden-friend@example.com")

    invite = team.get_by_role("form", name="Invite to Garden society")
    invite.get_by_label("Invite by email").fill("garden-friend@example.com")
    invite.get_by_label("Role").select_option("editor")
    invite.get_by_role("button", name="Invite").click()
    team.get_by_text("(invited as editor)").wait_for()
    invite.get_by_role("button", name="Copy link").click()
    invite.get_by_role("button", name="Copied").wait_for()
    link = str(owner.evaluate("navigator.clipboard.readText()"))
    assert link == invite.get_by_label("Invite link for garden-friend@example.com").input_value()
    assert "invitation=" in link and "token=" in link
    shot(owner, "workspaces", "01-invited")

    settings(invitee)
    # An address is not enough: nothing to accept without the link.
    assert invitee.get_by_role("list", name="Invitations for you").count() == 0
    invitee.goto(link)
    # Not a member until they accept: no team workspace yet.
    invitee.get_by_role("heading", name="Invitation link").wait_for()
    assert invitee.get_by_role("list", name="Team workspaces").get_by_role("listitem").count() == 0
    invitee.get_by_role("button", name="Accept invitation").click()
    joined = invitee.get_by_role("listitem", name="Garden society")
    joined.get_by_text("Your role: editor").wait_for()
    shot(invitee, "workspaces", "02-accepted")

    owner.reload()
    team = owner.get_by_role("listitem", name="Garden society")
    members = team.get_by_role("list", name="Members of Garden society")
    members.get_by_text("garden-friend@example.com").wait_for()
    members.get_by_label("Role of garden-friend@example.com").select_option("viewer")
    invitee.reload()
    invitee.get_by_role("listitem", name="Garden society").get_by_text(
        "Your role: viewer"
    ).wait_for()

    invitee.get_by_role("listitem", name="Garden society").get_by_role(
        "button", name="Leave workspace"
    ).click()
    invitee.get_by_role("listitem", name="Garden society").wait_for(state="detached")
    # The last owner cannot leave: a clear error, and the workspace stays.
    team.get_by_role("button", name="Leave workspace").click()
    team.get_by_role("alert").get_by_text("the last owner cannot leave").wait_for()
    assert errors == []
