"""GET /v1/export and DELETE /v1/account: the export holds everything the caller owns and
nothing of anyone else's; deleting the account leaves no row of the user in any table."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from psycopg import sql

from api.accounts.users import ensure_workspace, workspace_id
from api.answers import micro_threads
from api.db.session import Caller, Connection, transaction_as
from api.http.app import create_app
from api.importers.model import Conversation, Message
from api.pipeline.ingest import write_conversation
from api.search import history
from tests.membership import add_member
from tests.test_api import auth, make_settings
from tests.test_rls import unit_vector


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(db_url))) as c:
        yield c


@dataclass
class Person:
    caller: Caller
    personal: UUID
    team: UUID


def add_source(conn: Connection, caller: Caller, ws: UUID, title: str, *texts: str) -> UUID:
    conversation = Conversation(
        kind="text",
        platform="notes",
        title=title,
        messages=[
            Message(role="user" if i % 2 == 0 else "assistant", text=t) for i, t in enumerate(texts)
        ],
    )
    write_conversation(conn, caller, ws, conversation)
    with transaction_as(conn, caller):
        row = conn.execute(
            "select id from public.sources where workspace_id = %s and title = %s", [ws, title]
        ).fetchone()
    assert row is not None
    return UUID(str(row["id"]))


def populate(conn: Connection, client: TestClient, caller: Caller, word: str) -> Person:
    """A user with a row in every table a user can have rows in."""
    personal = workspace_id(conn, caller)
    team = ensure_workspace(conn, caller, f"{word} team")
    add_source(
        conn, caller, personal, f"{word} chat", f"How do I make {word}?", f"{word} needs sugar."
    )
    add_source(conn, caller, team, f"{word} team notes", f"The team likes {word}.")
    with transaction_as(conn, Caller.service()):
        conn.execute(
            "insert into public.chunk_embeddings (chunk_id, model_id, workspace_id, embedding)"
            " select id, 1, workspace_id, %s::extensions.vector from public.chunks"
            " where workspace_id = %s limit 1",
            [unit_vector(0), personal],
        )
    with transaction_as(conn, caller.as_writer()):
        conn.execute("insert into public.import_jobs (workspace_id) values (%s)", [personal])
        # A summary is the API's to store: its writer role.
        conn.execute(
            "with t as (insert into public.topic_threads (workspace_id, title, title_source)"
            " values (%s, %s, 'user') returning id)"
            " update public.sources set thread_id = (select id from t), summary = %s"
            " where workspace_id = %s",
            [personal, f"{word} thread", f"All about {word}.", personal],
        )
    history.record(conn, caller, f"{word} recipe", personal)
    with transaction_as(conn, caller):
        chunk = conn.execute(
            "select id from public.chunks where workspace_id = %s limit 1", [personal]
        ).fetchone()
    assert chunk is not None
    micro_threads.store(conn, caller, chunk["id"], f"why {word}?", "because [1]", None, [])
    put = client.put("/v1/keys/openai", json={"key": f"sk-test-{word}-1234"}, headers=auth(caller))
    assert put.status_code == 200, put.text
    return Person(caller, personal, team)


def test_export_holds_everything_the_caller_owns_and_nothing_else(
    conn: Connection, client: TestClient, make_user: Callable[[], Caller]
) -> None:
    alice = populate(conn, client, make_user(), "marmalade")
    bob = populate(conn, client, make_user(), "tangerine")
    # Alice is a member of Bob's team workspace: she reads it, but it is Bob's to export.
    add_member(conn, bob.caller, bob.team, alice.caller, "viewer")

    response = client.get("/v1/export", params={"format": "json"}, headers=auth(alice.caller))
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["user_id"] == str(alice.caller.user_id)
    assert {w["id"] for w in data["workspaces"]} == {str(alice.personal), str(alice.team)}
    titles = {s["title"]: s for s in data["sources"]}
    assert set(titles) == {"marmalade chat", "marmalade team notes"}
    chat = titles["marmalade chat"]["passages"]
    assert [p["content"] for p in chat] == ["How do I make marmalade?", "marmalade needs sugar."]
    assert [p["role"] for p in chat] == ["user", "assistant"]
    assert [t["title"] for t in data["topic_threads"]] == ["marmalade thread"]
    assert titles["marmalade chat"]["thread_id"] == data["topic_threads"][0]["id"]
    assert titles["marmalade chat"]["summary"] == "All about marmalade."
    assert [h["query"] for h in data["search_history"]] == ["marmalade recipe"]
    assert len(data["import_jobs"]) == 1
    assert [t["question"] for t in data["micro_threads"]] == ["why marmalade?"]
    assert data["api_keys"] == [
        {"provider": "openai", "last_four": "1234", "updated_at": data["api_keys"][0]["updated_at"]}
    ]
    text = response.text
    assert "tangerine" not in text and str(bob.caller.user_id) not in text
    assert "sk-test-marmalade" not in text  # the key itself never leaves

    archive = client.get("/v1/export", headers=auth(alice.caller))
    assert archive.status_code == 200
    assert archive.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(archive.content)) as z:
        names = sorted(z.namelist())
        assert names[0] == "conversations.json"
        assert len(names) == 3 and all(n.startswith("markdown/") for n in names[1:])
        inside = json.loads(z.read("conversations.json"))
        assert {s["title"] for s in inside["sources"]} == set(titles)
        md = next(z.read(n).decode() for n in names if "marmalade-chat" in n)
    assert md.startswith("# marmalade chat\n")
    assert "> All about marmalade.\n" in md
    assert "## user\n\nHow do I make marmalade?" in md
    assert "## assistant\n\nmarmalade needs sugar." in md
    assert client.get("/v1/export").status_code == 401


def test_deleting_the_account_needs_the_confirmation(
    client: TestClient, make_user: Callable[[], Caller]
) -> None:
    me = make_user()
    for body in (None, {}, {"confirm": "yes"}, {"confirm": "delete my account", "x": 1}):
        response = client.request("DELETE", "/v1/account", json=body, headers=auth(me))
        assert response.status_code == 422, body
    assert client.get("/v1/export", params={"format": "json"}, headers=auth(me)).json()[
        "workspaces"
    ]


def test_deleting_the_account_removes_every_row_of_the_user(
    conn: Connection, client: TestClient, make_user: Callable[[], Caller]
) -> None:
    alice = populate(conn, client, make_user(), "quince")
    bob = populate(conn, client, make_user(), "medlar")
    add_member(conn, bob.caller, bob.team, alice.caller, "editor")
    uid = str(alice.caller.user_id)
    marks = [uid, str(alice.personal), str(alice.team)]
    tables = [
        r["tablename"]
        for r in conn.execute(
            "select tablename from pg_tables where schemaname = 'public' order by tablename"
        ).fetchall()
    ]

    def mentions() -> dict[str, int]:
        """Rows of each public table that mention the user or their workspaces anywhere."""
        found: dict[str, int] = {}
        for table in tables:
            query = sql.SQL(
                "select count(*) as n from public.{} t where to_jsonb(t)::text like any (%s)"
            ).format(sql.Identifier(table))
            row = conn.execute(query, [[f"%{m}%" for m in marks]]).fetchone()
            assert row is not None
            if row["n"]:
                found[table] = row["n"]
        return found

    before = mentions()
    for table in (
        "workspaces",
        "workspace_members",
        "sources",
        "chunks",
        "chunk_embeddings",
        "embedding_queue",
        "api_keys",
        "import_jobs",
        "search_history",
        "micro_threads",
    ):
        assert before.get(table), f"the test user has no row in {table}"

    gone = client.request(
        "DELETE", "/v1/account", json={"confirm": "delete my account"}, headers=auth(alice.caller)
    )
    assert gone.status_code == 204, gone.text
    assert mentions() == {}
    assert conn.execute("select 1 from auth.users where id = %s", [uid]).fetchone() is None
    # Bob keeps all of his, the team workspace Alice belonged to included.
    data = client.get("/v1/export", params={"format": "json"}, headers=auth(bob.caller)).json()
    assert {s["title"] for s in data["sources"]} == {"medlar chat", "medlar team notes"}
    again = client.request(
        "DELETE", "/v1/account", json={"confirm": "delete my account"}, headers=auth(alice.caller)
    )
    assert again.status_code == 404
