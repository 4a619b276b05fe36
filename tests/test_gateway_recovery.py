""" "Forgot password" in the local gateway with GoTrue's semantics, driven by the real
supabase-py client: `POST /recover` always answers 200 `{}` (nobody learns who has an
account), the mail lands in the outbox under KNITTER_HOME, `verify` type recovery trades
its token hash for a session once, and `updateUser` sets the new password."""

from __future__ import annotations

import logging
import socket
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import uvicorn
from pydantic import SecretStr
from supabase_auth.errors import AuthApiError

from api.config import Settings
from api.db.session import Connection
from api.gateway import create_gateway, local_secrets
from api.gateway.auth_routes import recovery_link
from api.gateway.outbox import Mail
from tests.test_gateway import PASSWORD, Gateway, claims_of, client, new_email, signed_up

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:supabase.*")

APP = "http://127.0.0.1:5999"
NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("knitter-home")


@pytest.fixture(scope="module")
def mailed() -> list[Mail]:
    return []


@pytest.fixture(scope="module")
def gateway(db_url: str, home: Path, mailed: list[Mail]) -> Iterator[Gateway]:
    keys = local_secrets(home)
    settings = Settings(
        environment="test",
        home=home,
        database_url=db_url,
        supabase_jwt_secret=SecretStr(keys.jwt_secret),
        app_url=APP,
        cors_origins=["http://localhost:5173"],
        db_pool_min=1,
        db_pool_max=4,
    )
    app = create_gateway(settings, db_url, on_mail=lambda mail, _path: mailed.append(mail))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the gateway did not start"
        time.sleep(0.02)
    yield Gateway(f"http://127.0.0.1:{sock.getsockname()[1]}", keys)
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


def outbox_files(home: Path) -> list[Path]:
    folder = home / "outbox"
    return sorted(folder.glob("*.eml")) if folder.exists() else []


def token_of(link: str) -> str:
    query = parse_qs(urlsplit(link).query)
    assert query["type"] == ["recovery"]
    return query["token_hash"][0]


def test_recovery_mails_a_link_and_verify_then_update_user_sets_the_password(
    gateway: Gateway, home: Path, mailed: list[Mail], caplog: pytest.LogCaptureFixture
) -> None:
    _, email = signed_up(gateway)
    before = len(outbox_files(home))
    sb = client(gateway)
    with caplog.at_level(logging.DEBUG):
        sb.auth.reset_password_for_email(email, {"redirect_to": f"{APP}/reset-password"})
    files = outbox_files(home)
    assert len(files) == before + 1
    assert stat.S_IMODE(files[-1].stat().st_mode) == 0o600
    text = files[-1].read_text()
    link = mailed[-1].link
    assert mailed[-1].to == email and f"To: {email}" in text and link in text
    assert link.startswith(f"{APP}/reset-password?")
    token = token_of(link)
    assert token not in caplog.text  # the link never reaches a log

    verified = sb.auth.verify_otp({"token_hash": token, "type": "recovery"})
    assert verified.session is not None and verified.user is not None
    assert verified.user.email == email
    claims = claims_of(verified.session.access_token, gateway)
    assert claims["amr"][0]["method"] == "recovery"
    sb.auth.update_user({"password": NEW_PASSWORD})

    fresh = client(gateway)
    with pytest.raises(AuthApiError) as old:
        fresh.auth.sign_in_with_password({"email": email, "password": PASSWORD})
    assert old.value.code == "invalid_credentials"
    signed_in = fresh.auth.sign_in_with_password({"email": email, "password": NEW_PASSWORD})
    assert signed_in.user is not None and signed_in.user.id == verified.user.id

    # Spent: the same link works once.
    with pytest.raises(AuthApiError) as again:
        client(gateway).auth.verify_otp({"token_hash": token, "type": "recovery"})
    assert (again.value.status, again.value.code) == (403, "otp_expired")


def test_recover_answers_the_same_for_unknown_addresses_and_guests(
    gateway: Gateway, home: Path
) -> None:
    headers = {"apikey": gateway.keys.anon_key}
    before = len(outbox_files(home))
    _, known = signed_up(gateway)
    unknown = httpx.post(
        f"{gateway.url}/auth/v1/recover", json={"email": new_email()}, headers=headers
    )
    assert len(outbox_files(home)) == before
    exists = httpx.post(f"{gateway.url}/auth/v1/recover", json={"email": known}, headers=headers)
    assert (unknown.status_code, unknown.json()) == (exists.status_code, exists.json()) == (200, {})
    assert len(outbox_files(home)) == before + 1
    # A guest has no email to recover with: nothing is sent for anyone.
    client(gateway).auth.sign_in_anonymously()
    assert len(outbox_files(home)) == before + 1


def test_a_newer_link_replaces_the_older_and_bad_tokens_are_refused(
    gateway: Gateway, mailed: list[Mail], conn: Connection
) -> None:
    _, email = signed_up(gateway)
    sb = client(gateway)
    sb.auth.reset_password_for_email(email)
    first = token_of(mailed[-1].link)
    assert mailed[-1].link.startswith(f"{APP}/reset-password?")  # no redirect_to: the site's
    sb.auth.reset_password_for_email(email)
    second = token_of(mailed[-1].link)
    assert first != second
    stored = conn.execute(
        "select token_hash from auth.one_time_tokens t join auth.users u on u.id = t.user_id"
        " where u.email = %s",
        [email],
    ).fetchall()
    assert len(stored) == 1 and stored[0]["token_hash"] not in (first, second)  # a hash
    for token in (first, "0" * 56, ""):
        with pytest.raises(AuthApiError) as refused:
            client(gateway).auth.verify_otp({"token_hash": token, "type": "recovery"})
        assert refused.value.status in (400, 403)
    # An expired one (older than an hour) is refused and spent.
    conn.execute(
        "update auth.one_time_tokens set created_at = now() - interval '2 hours'"
        " where token_hash = %s",
        [stored[0]["token_hash"]],
    )
    with pytest.raises(AuthApiError) as expired:
        client(gateway).auth.verify_otp({"token_hash": second, "type": "recovery"})
    assert (expired.value.status, expired.value.code) == (403, "otp_expired")
    left = conn.execute(
        "select count(*) as n from auth.one_time_tokens where token_hash = %s",
        [stored[0]["token_hash"]],
    ).fetchone()
    assert left is not None and left["n"] == 0


def test_bad_recovery_requests_are_4xx(gateway: Gateway) -> None:
    headers = {"apikey": gateway.keys.anon_key}
    url = gateway.url + "/auth/v1"
    cases = [
        ("recover", {}, 400, "validation_failed"),
        ("recover", {"email": "not-an-address"}, 400, "validation_failed"),
        ("recover", {"email": 5}, 400, "validation_failed"),
        ("verify", {"token_hash": "x"}, 400, "validation_failed"),
        ("verify", {"type": "signup", "token_hash": "x"}, 400, "validation_failed"),
        ("verify", {"type": "recovery"}, 400, "validation_failed"),
        ("verify", {"type": "recovery", "token_hash": "a\x00b"}, 400, "validation_failed"),
    ]
    for path, body, status, code in cases:
        response = httpx.post(f"{url}/{path}", json=body, headers=headers)
        assert (response.status_code, response.json().get("error_code")) == (status, code), body
    assert httpx.post(f"{url}/recover", content=b"{", headers=headers).status_code == 400


def test_redirect_to_is_kept_only_on_an_allowed_origin() -> None:
    origins = {APP, "http://localhost:5173"}
    ok = recovery_link("t", APP, "http://localhost:5173/reset-password?x=1", origins)
    assert ok == "http://localhost:5173/reset-password?x=1&token_hash=t&type=recovery"
    for evil in ("https://evil.example/steal", "javascript:alert(1)", "//evil.example/x"):
        link = recovery_link("t", APP, evil, origins)
        assert link == f"{APP}/reset-password?token_hash=t&type=recovery", evil
