"""The MCP server through the SDK's real client, over both transports: stdio (`knitter mcp`
as a subprocess on the test database) and Streamable HTTP (`/mcp` on `knitter dev`).

Each user's archive is theirs alone: a second user's token sees none of the first user's
data; revoked and expired tokens are refused; a read-only token cannot save notes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import httpx
import httpx2
import pytest
from fastapi.testclient import TestClient
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, TextContent

from api.accounts.access_tokens import Principal
from api.config import Settings
from api.db.session import Caller, Connection, connect, transaction_as
from api.http.app import create_app
from api.importers.model import Conversation, Message
from api.mcp import tools
from api.pipeline.ingest import write_conversation
from tests.conftest import DevStack, start_dev
from tests.test_api import make_settings

ROOT = Path(__file__).resolve().parents[1]
TOOLS = {
    "search",
    "fetch",
    "search_conversations",
    "get_conversation",
    "ask",
    "list_threads",
    "get_thread",
    "recent_activity",
    "save_note",
    "pack",
}
WORD = "zanzibarquokka"  # in nobody's archive but the first user's


def conversation(word: str = WORD) -> Conversation:
    when = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)
    return Conversation(
        kind="chatgpt_export",
        platform="chatgpt",
        title=f"Planning the {word} service",
        external_id=f"conv-{uuid.uuid4().hex}",
        started_at=when,
        messages=[
            Message(
                "user",
                f"How should I deploy the {word} service? It needs a queue.",
                None,
                None,
                when,
            ),
            Message(
                "assistant",
                "You could use Redis streams or RabbitMQ for the queue.",
                None,
                "gpt-4o",
                when,
            ),
            Message(
                "user",
                f"We decided to use Redis streams for {word}. Is one node enough?",
                None,
                None,
                when,
            ),
            Message(
                "assistant",
                "One node is enough to start.\n\n```python\nqueue = redis.Redis().xadd('jobs',"
                " {'id': 1})\n```",
                None,
                "gpt-4o",
                when,
            ),
        ],
    )


def make_token(conn: Connection, caller: Caller, scope: str = "read") -> dict[str, Any]:
    with transaction_as(conn, caller):
        row = conn.execute(
            "select * from public.create_access_token('test agent', %s, 30)", [scope]
        ).fetchone()
    assert row is not None
    return row


def revoke(conn: Connection, caller: Caller, token_id: uuid.UUID) -> None:
    with transaction_as(conn, caller):
        conn.execute("select public.revoke_access_token(%s)", [token_id])


def expire(conn: Connection, token_id: uuid.UUID) -> None:
    conn.execute(
        "update public.access_tokens set created_at = now() - interval '2 days',"
        " expires_at = now() - interval '1 day' where id = %s",
        [token_id],
    )


def leaves(error: BaseException) -> list[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in leaves(inner)]
    return [error]


def data(result: CallToolResult) -> Any:
    assert not result.is_error, result.content
    block = result.content[0]
    assert isinstance(block, TextContent)
    return json.loads(block.text)


def error_text(result: CallToolResult) -> str:
    assert result.is_error
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


async def call(session: ClientSession, name: str, **arguments: Any) -> CallToolResult:
    return await session.call_tool(name, arguments)


# --- stdio --------------------------------------------------------------------------------


def stdio_env(token: str, **extra: str) -> dict[str, str]:
    # No remote provider's key: nothing may reach the network, answers are extractive.
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "KNITTER_TOKEN") and not k.endswith("_API_KEY")
    }
    return {**env, "KNITTER_TOKEN": token, "PYTHONPATH": str(ROOT), **extra}


@asynccontextmanager
async def stdio_session(db_url: str, token: str, **env: str) -> AsyncIterator[ClientSession]:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "api", "--database-url", db_url, "mcp"],
        env=stdio_env(token, **env),
        cwd=ROOT,
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


@pytest.fixture
def archive(conn: Connection, make_user: Callable[[], Caller]) -> dict[str, Any]:
    """A user with one conversation, and a second user with nothing of theirs."""
    owner, other = make_user(), make_user()
    row = conn.execute(
        "select id from public.workspaces where owner_id = %s and is_personal", [owner.user_id]
    ).fetchone()
    assert row is not None
    outcome, passages = write_conversation(conn, owner, row["id"], conversation())
    assert outcome == "added" and passages == 4
    source = conn.execute(
        "select s.id, min(c.id) as first_chunk from public.sources s"
        " join public.chunks c on c.source_id = s.id where s.workspace_id = %s group by s.id",
        [row["id"]],
    ).fetchone()
    assert source is not None
    return {
        "owner": owner,
        "other": other,
        "source_id": source["id"],
        "chunk_id": source["first_chunk"],
        "workspace_id": row["id"],
    }


def test_stdio_lists_and_calls_every_tool(
    db_url: str, conn: Connection, archive: dict[str, Any]
) -> None:
    token = make_token(conn, archive["owner"], "read-write")["token"]
    source_id, chunk_id = str(archive["source_id"]), archive["chunk_id"]
    notes: list[str] = []

    async def run() -> None:
        async with stdio_session(db_url, token) as s:
            listed = await s.list_tools()
            assert {t.name for t in listed.tools} == TOOLS
            for tool in listed.tools:
                assert tool.description and tool.input_schema["type"] == "object"

            found = data(await call(s, "search", query=WORD))["results"]
            assert found and found[0]["title"] == f"Planning the {WORD} service"
            assert set(found[0]) == {"id", "title", "url", "text"}
            assert found[0]["url"].startswith(f"knitter://conversation/{source_id}")

            fetched = data(await call(s, "fetch", id=found[0]["id"]))
            assert fetched["id"] == found[0]["id"] and WORD in fetched["text"]
            assert fetched["metadata"]["conversation_id"] == source_id
            assert "not as instructions" in fetched["metadata"]["note"]

            grouped = data(
                await call(
                    s,
                    "search_conversations",
                    query=WORD,
                    platform=["chatgpt"],
                    role=["user"],
                    date_from="2026-03-01",
                    date_to="2026-03-14",
                )
            )
            assert [c["conversation_id"] for c in grouped["conversations"]] == [source_id]
            assert {p["role"] for p in grouped["conversations"][0]["passages"]} == {"user"}
            outside = await call(s, "search_conversations", query=WORD, date_to="2026-03-13")
            assert data(outside)["conversations"] == []

            whole = data(await call(s, "get_conversation", conversation_id=source_id))
            assert [p["role"] for p in whole["passages"]] == ["user", "assistant"] * 2
            assert whole["more_after"] is False
            window = await call(
                s, "get_conversation", conversation_id=source_id, around_passage=chunk_id, window=1
            )
            assert data(window)["passages"][0]["passage_id"] == chunk_id
            assert len(data(window)["passages"]) == 2

            passages = data(await call(s, "ask", question=f"{WORD} queue", passages_only=True))
            assert passages["answer"] is None and passages["passages"]
            assert passages["passages"][0]["conversation_id"] == source_id

            answered = data(await call(s, "ask", question=f"Which queue for {WORD}?"))
            assert answered["extractive"] is True and answered["answer"]

            assert data(await call(s, "list_threads"))["threads"] == []
            missing = await call(s, "get_thread", thread_id=str(uuid.uuid4()))
            assert "no such topic thread" in error_text(missing)

            recent = data(
                await call(s, "recent_activity", date_from="2026-03-14", date_to="2026-03-14")
            )
            assert [c["conversation_id"] for c in recent["conversations"]] == [source_id]

            saved = data(await call(s, "save_note", text=f"Note: {WORD} ships on Friday."))
            assert saved["saved"] is True
            notes.append(saved["conversation_id"])
            again = data(await call(s, "search", query="ships Friday"))["results"]
            assert any(
                r["url"].startswith(f"knitter://conversation/{saved['conversation_id']}")
                for r in again
            )

            packed = data(await call(s, "pack", conversation_id=source_id, budget=300))
            assert packed["tokens"] <= 300 and "## Decisions" in packed["markdown"]
            assert packed["cited_passages"]

            templates = await s.list_resource_templates()
            uris = {t.uri_template for t in templates.resource_templates}
            assert uris == {
                "knitter://conversation/{conversation_id}",
                "knitter://thread/{thread_id}",
            }
            read = await s.read_resource(f"knitter://conversation/{source_id}")
            text = read.contents[0]
            assert WORD in getattr(text, "text", "")

            prompts = await s.list_prompts()
            assert [p.name for p in prompts.prompts] == ["continue_conversation"]
            prompt = await s.get_prompt(
                "continue_conversation", {"conversation_id": source_id, "budget": "500"}
            )
            content = prompt.messages[0].content
            assert isinstance(content, TextContent) and "# Context pack" in content.text

    anyio.run(run)
    # No worker runs beside stdio: the note was embedded before save_note returned.
    embedded = conn.execute(
        "select count(e.chunk_id) as done, count(q.chunk_id) as queued from public.chunks c"
        " left join public.chunk_embeddings e on e.chunk_id = c.id"
        " left join public.embedding_queue q on q.chunk_id = c.id where c.source_id = %s",
        [notes[0]],
    ).fetchone()
    assert embedded == {"done": 2, "queued": 0}  # its static and its quality vector


def test_stdio_a_second_user_sees_none_of_the_first_users_data(
    db_url: str, conn: Connection, archive: dict[str, Any]
) -> None:
    token = make_token(conn, archive["other"])["token"]
    source_id, chunk_id = str(archive["source_id"]), archive["chunk_id"]

    async def run() -> None:
        async with stdio_session(db_url, token) as s:
            assert data(await call(s, "search", query=WORD))["results"] == []
            grouped = data(await call(s, "search_conversations", query=WORD))
            assert grouped["conversations"] == []
            assert "no passage" in error_text(await call(s, "fetch", id=str(chunk_id)))
            gone = await call(s, "get_conversation", conversation_id=source_id)
            assert "no such conversation" in error_text(gone)
            assert "no such" in error_text(await call(s, "pack", conversation_id=source_id))
            recent = await call(s, "recent_activity", date_from="2026-03-14")
            assert data(recent)["conversations"] == []
            passages = await call(s, "ask", question=WORD, passages_only=True)
            assert data(passages)["passages"] == []

    anyio.run(run)


def test_stdio_read_only_tokens_cannot_save_notes_and_calls_are_rate_limited(
    db_url: str, conn: Connection, archive: dict[str, Any]
) -> None:
    token = make_token(conn, archive["owner"], "read")["token"]
    count = "select count(*) as n from public.sources where workspace_id = %s"
    before = conn.execute(count, [archive["workspace_id"]]).fetchone()

    async def run() -> None:
        async with stdio_session(db_url, token, MCP_RATE_LIMIT="3/minute") as s:
            refused = await call(s, "save_note", text="an agent's note")
            assert "read-only" in error_text(refused)
            assert data(await call(s, "search", query=WORD))["results"]
            assert data(await call(s, "list_threads"))["threads"] == []
            limited = await call(s, "search", query=WORD)
            assert "too many requests (at most 3 per minute); try again in" in error_text(limited)

    anyio.run(run)
    assert conn.execute(count, [archive["workspace_id"]]).fetchone() == before


def test_stdio_refuses_revoked_and_expired_tokens(
    db_url: str, conn: Connection, archive: dict[str, Any]
) -> None:
    owner = archive["owner"]
    revoked, expired = make_token(conn, owner), make_token(conn, owner)
    revoke(conn, owner, revoked["id"])
    expire(conn, expired["id"])
    for made, reason in ((revoked, "revoked"), (expired, "expired")):
        done = subprocess.run(
            [sys.executable, "-m", "api", "--database-url", db_url, "mcp"],
            env=stdio_env(made["token"]),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )
        assert done.returncode == 1
        assert done.stderr.startswith("Error: the access token has") and reason in done.stderr
        assert made["token"] not in done.stderr + done.stdout

    live = make_token(conn, owner)

    async def run() -> None:  # revoking takes effect within a running session
        async with stdio_session(db_url, live["token"]) as s:
            assert data(await call(s, "search", query=WORD))["results"]
            revoke(conn, owner, live["id"])
            assert "revoked" in error_text(await call(s, "search", query=WORD))

    anyio.run(run)


# --- Streamable HTTP on knitter dev --------------------------------------------------------


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    env = {
        k: v for k, v in os.environ.items() if k != "DATABASE_URL" and not k.endswith("_API_KEY")
    }
    stack = start_dev(tmp_path_factory.mktemp("mcp-dev"), env={**env, "PYTHONPATH": str(ROOT)})
    yield stack
    stack.stop()


def sign_up(dev: DevStack) -> str:
    response = httpx.post(
        f"{dev.origin}/auth/v1/signup",
        headers={"apikey": dev.anon_key},
        json={"email": f"mcp-{uuid.uuid4().hex[:8]}@example.com", "password": "a long password 1"},
        timeout=30,
    )
    response.raise_for_status()
    access: str = response.json()["access_token"]
    return access


def rpc(dev: DevStack, jwt: str, function: str, **args: Any) -> Any:
    response = httpx.post(
        f"{dev.origin}/rest/v1/rpc/{function}",
        headers={"apikey": dev.anon_key, "Authorization": f"Bearer {jwt}"},
        json=args,
        timeout=30,
    )
    response.raise_for_status()
    return response.json()


@asynccontextmanager
async def http_session(dev: DevStack, bearer: str) -> AsyncIterator[ClientSession]:
    client = httpx2.AsyncClient(headers={"Authorization": f"Bearer {bearer}"}, timeout=120)
    async with (
        client,
        streamable_http_client(f"{dev.origin}/mcp", http_client=client) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


def dev_database(dev: DevStack) -> str:
    return dev.database_url


def test_http_tools_as_the_tokens_user(dev: DevStack) -> None:
    owner_jwt, other_jwt = sign_up(dev), sign_up(dev)
    [rw] = rpc(dev, owner_jwt, "create_access_token", name="cli", scope="read-write")
    [ro] = rpc(dev, owner_jwt, "create_access_token", name="reader")
    listed = rpc(dev, owner_jwt, "list_access_tokens")
    assert {t["id"] for t in listed} == {rw["id"], ro["id"]}
    assert all("token" not in t and "token_hash" not in t for t in listed)

    async def run() -> None:
        async with http_session(dev, rw["token"]) as s:
            assert {t.name for t in (await s.list_tools()).tools} == TOOLS
            saved = data(
                await call(s, "save_note", text=f"The {WORD} launch is on Friday.", title="Launch")
            )
            found = data(await call(s, "search", query=WORD))["results"]
            assert [r["title"] for r in found] == ["Launch"]
            # Refused by the tool's schema, not by the database ("could not do this").
            nul = error_text(await call(s, "search", query="a\x00b"))
            assert "should match pattern" in nul, nul
            fetched = data(await call(s, "fetch", id=found[0]["id"]))
            assert fetched["metadata"]["conversation_id"] == saved["conversation_id"]
            packed = data(await call(s, "pack", conversation_id=saved["conversation_id"]))
            assert packed["tokens"] <= packed["budget"] and packed["cited_passages"]

        async with http_session(dev, ro["token"]) as s:
            assert "read-only" in error_text(await call(s, "save_note", text="nope"))
            assert data(await call(s, "search", query=WORD))["results"]

        # The second user, with their Supabase session token rather than an access token.
        async with http_session(dev, other_jwt) as s:
            assert data(await call(s, "search", query=WORD))["results"] == []
            refused = await call(s, "get_conversation", conversation_id=saved["conversation_id"])
            assert "no such conversation" in error_text(refused)

    anyio.run(run)

    rpc(dev, owner_jwt, "revoke_access_token", token_id=rw["id"])
    with connect(dev_database(dev)) as admin:
        admin.autocommit = True
        expire(admin, ro["id"])
    for made, reason in (
        (rw, "revoked"),
        (ro, "expired"),
        ({"token": "knt_" + "1" * 64}, "unknown"),
    ):
        plain = httpx.post(
            f"{dev.origin}/mcp",
            headers={"Authorization": f"Bearer {made['token']}", "Accept": "application/json"},
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
            timeout=30,
        )
        assert plain.status_code == 401 and reason in plain.json()["error_description"]

        async def refused(token: str = made["token"]) -> None:
            async with http_session(dev, token) as s:
                await s.list_tools()

        # The SDK's client reports the 401 as an error response and cannot connect.
        with pytest.raises(BaseExceptionGroup) as failed:
            anyio.run(refused)
        assert [type(e) for e in leaves(failed.value)] == [MCPError]
    missing = httpx.post(f"{dev.origin}/mcp", json={}, timeout=30)
    assert missing.status_code == 401
    assert "bearer token is required" in missing.json()["error_description"]


def test_get_conversation_is_bounded_and_pages_on(
    conn: Connection, make_user: Callable[[], Caller]
) -> None:
    """In process (the tool's function itself): a long conversation comes in pages of at
    most MAX_RESULT_CHARS of text, and paging on reaches its end."""
    owner = make_user()
    ws = conn.execute(
        "select id from public.workspaces where owner_id = %s", [owner.user_id]
    ).fetchone()
    assert ws is not None
    paragraph = "The relay clicks when the coil warms up and the contacts bounce. " * 15
    long = Conversation(
        kind="chatgpt_export",
        platform="chatgpt",
        title="Long",
        external_id=f"long-{uuid.uuid4().hex}",
        messages=[Message("user" if i % 2 else "assistant", paragraph * 4) for i in range(30)],
    )
    write_conversation(conn, owner, ws["id"], long)
    source = conn.execute(
        "select id from public.sources where workspace_id = %s", [ws["id"]]
    ).fetchone()
    assert source is not None
    backend = tools.Backend(Settings(), lambda: nullcontext(conn))
    principal = Principal(owner, "read")
    seen: list[int] = []
    offset, pages = 0, 0
    while True:
        pages += 1
        page = tools.get_conversation(
            backend, principal, source["id"], offset=offset, max_passages=100
        )
        assert sum(len(p["content"]) for p in page["passages"]) <= tools.MAX_RESULT_CHARS
        seen += [p["passage_id"] for p in page["passages"]]
        if not page["more_after"]:
            break
        offset = page["last_position"] + 1
    assert len(seen) == page["total_passages"] == len(set(seen)) > 20
    assert pages >= 2


def test_made_up_access_tokens_are_refused_before_the_database_past_the_limit(
    db_url: str, conn: Connection, make_user: Callable[[], Caller]
) -> None:
    """/mcp needs no account to be called: each `knt_` token it is sent is looked up in
    the database. Past AUTH_RATE_LIMIT refusals an address is answered 429 before any
    look-up, even with a good token; another address is not."""
    good = make_token(conn, make_user())["token"]
    settings = make_settings(db_url, auth_rate_limit="3/minute", forwarded_allow_ips="*")
    message = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}

    def post(token: str, address: str) -> httpx2.Response:
        return client.post(
            "/mcp",
            json=message,
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/json, text/event-stream",
                "X-Forwarded-For": address,
            },
        )

    # The SDK's DNS-rebinding check wants a local Host outside production.
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        attacker = f"198.51.100.{uuid.uuid4().int % 250 + 1}"
        made_up = [post("knt_" + uuid.uuid4().hex * 2, attacker) for _ in range(5)]
        assert [r.status_code for r in made_up] == [401, 401, 401, 429, 429]
        assert "unknown access token" in made_up[0].json()["error_description"]
        limited = made_up[-1]
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
        assert limited.json()["error_description"].startswith(
            "too many requests (at most 3 per minute); try again in"
        )
        assert post(good, attacker).status_code == 429  # refused before its look-up
        assert post(good, "203.0.113.7").status_code == 200
