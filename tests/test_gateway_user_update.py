"""`PUT /auth/v1/user` in the local gateway, with GoTrue's semantics, driven by the real
supabase-py client: a guest becomes a permanent user keeping their data, passwords and
metadata change, and GoTrue's refusals come back with its codes."""

from __future__ import annotations

import pytest
from supabase_auth.errors import AuthApiError, AuthWeakPasswordError

from api.db.session import Connection
from tests.test_gateway import (
    PASSWORD,
    Gateway,
    caller_of,
    claims_of,
    client,
    gateway,
    import_note,
    new_email,
    signed_up,
    user_row,
)

__all__ = ["gateway"]  # the fixture

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:supabase.*")


def sources_of(conn: Connection, user_id: str) -> int:
    row = conn.execute(
        "select count(*) as n from public.sources s join public.workspaces w"
        " on w.id = s.workspace_id where w.owner_id = %s",
        [user_id],
    ).fetchone()
    return int(row["n"]) if row else 0


def test_a_guest_becomes_a_permanent_user_keeping_their_data(
    gateway: Gateway, conn: Connection
) -> None:
    sb = client(gateway)
    guest = sb.auth.sign_in_anonymously().user
    assert guest is not None
    import_note(conn, caller_of(sb), "a guest's note about sourdough")
    email = new_email()

    updated = sb.auth.update_user({"email": email, "password": PASSWORD}).user
    assert updated.id == guest.id and updated.email == email and not updated.is_anonymous
    assert updated.app_metadata["provider"] == "email"
    assert [i.provider for i in updated.identities or []] == ["email"]
    row = user_row(conn, guest.id)
    assert row["is_anonymous"] is False and row["email_confirmed_at"] is not None
    # The token says so once the session is refreshed.
    refreshed = sb.auth.refresh_session()
    assert refreshed.session is not None
    claims = claims_of(refreshed.session.access_token, gateway)
    assert claims["is_anonymous"] is False and claims["email"] == email
    # A fresh sign-in with the new credentials is the same user, with the same data.
    again = client(gateway).auth.sign_in_with_password({"email": email, "password": PASSWORD})
    assert again.user is not None and again.user.id == guest.id
    assert sources_of(conn, guest.id) == 1


def test_a_guest_needs_an_email_with_a_password(gateway: Gateway, conn: Connection) -> None:
    sb = client(gateway)
    guest = sb.auth.sign_in_anonymously().user
    assert guest is not None
    with pytest.raises(AuthApiError) as error:
        sb.auth.update_user({"password": PASSWORD})
    assert error.value.status == 422 and error.value.code == "validation_failed"
    assert user_row(conn, guest.id)["is_anonymous"] is True


def test_a_new_password_replaces_the_old_and_ends_other_sessions(gateway: Gateway) -> None:
    sb, email = signed_up(gateway)
    elsewhere = client(gateway)
    elsewhere.auth.sign_in_with_password({"email": email, "password": PASSWORD})
    with pytest.raises(AuthApiError) as error:
        sb.auth.update_user({"password": PASSWORD})
    assert error.value.status == 422 and error.value.code == "same_password"
    with pytest.raises(AuthWeakPasswordError) as weak:
        sb.auth.update_user({"password": "short"})
    assert weak.value.status == 422 and weak.value.code == "weak_password"

    sb.auth.update_user({"password": "a brand new passphrase"})
    with pytest.raises(AuthApiError) as error:
        client(gateway).auth.sign_in_with_password({"email": email, "password": PASSWORD})
    assert error.value.code == "invalid_credentials"
    signed_in = client(gateway).auth.sign_in_with_password(
        {"email": email, "password": "a brand new passphrase"}
    )
    assert signed_in.user is not None and signed_in.user.email == email
    # This session goes on; the other one ended with the old password.
    assert sb.auth.refresh_session().session is not None
    with pytest.raises(AuthApiError):
        elsewhere.auth.refresh_session()


def test_metadata_merges_and_refusals_use_gotrues_codes(gateway: Gateway) -> None:
    sb, email = signed_up(gateway)
    sb.auth.update_user({"data": {"name": "Ada", "theme": "dark"}})
    user = sb.auth.update_user({"data": {"theme": None, "lang": "en"}}).user
    assert user.user_metadata == {"name": "Ada", "lang": "en"}
    assert user.email == email

    other, taken = signed_up(gateway)
    with pytest.raises(AuthApiError) as error:
        sb.auth.update_user({"email": taken.upper()})
    assert error.value.status == 422 and error.value.code == "email_exists"
    with pytest.raises(AuthApiError) as error:
        sb.auth.update_user({"email": "not-an-email"})
    assert error.value.status == 400 and error.value.code == "validation_failed"
    with pytest.raises(AuthApiError) as error:
        sb.auth.update_user({"app_metadata": {"provider": "admin"}})  # type: ignore[typeddict-unknown-key]
    assert error.value.status == 403 and error.value.code == "not_admin"
    found = other.auth.get_user()
    assert found is not None and found.user.email == taken
