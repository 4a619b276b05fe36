"""Row-level security, exercised as PostgREST does it: role and JWT claims per transaction.

Two users with their own workspaces; every table and the search RPC checked both ways.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg
import pytest

from api.accounts.users import workspace_id
from api.db.session import Caller, Connection, transaction_as
from api.db.vectors import vector_literal
from api.importers.model import Conversation, Message
from api.pipeline.ingest import write_conversation
from tests.membership import add_member

TABLES = [
    "workspaces",
    "workspace_members",
    "sources",
    "chunks",
    "chunk_embeddings",
    "embedding_queue",
    "embedding_models",
    "api_keys",
    "import_jobs",
    "workspace_invitations",
]


@dataclass
class Owner:
    caller: Caller
    workspace: UUID
    source: UUID
    chunk: int


def unit_vector(i: int, dims: int = 384) -> str:
    return vector_literal([1.0 if j == i else 0.0 for j in range(dims)])


def rows(conn: Connection, caller: Caller, sql: str, params: Any = None) -> list[dict[str, Any]]:
    with transaction_as(conn, caller):
        return conn.execute(sql, params).fetchall()


def affected(conn: Connection, caller: Caller, sql: str, params: Any = None) -> int:
    """Rows changed; 0 when the caller holds no privilege for the statement at all."""
    try:
        with transaction_as(conn, caller):
            return conn.execute(sql, params).rowcount
    except psycopg.errors.InsufficientPrivilege:
        return 0


def setup_owner(conn: Connection, caller: Caller, word: str) -> Owner:
    ws = workspace_id(conn, caller)
    conversation = Conversation(
        kind="text",
        platform="notes",
        title=f"{word} notes",
        messages=[Message(role="document", text=f"The secret word is {word}.")],
    )
    assert write_conversation(conn, caller, ws, conversation)[0] == "added"
    source = rows(conn, caller, "select id from public.sources where workspace_id = %s", [ws])[0]
    chunk = rows(conn, caller, "select id from public.chunks where source_id = %s", [source["id"]])
    with transaction_as(conn, Caller.service()):
        conn.execute(
            "insert into public.chunk_embeddings (chunk_id, model_id, workspace_id, embedding)"
            " values (%s, 1, %s, %s::extensions.vector)",
            [chunk[0]["id"], ws, unit_vector(0)],
        )
    return Owner(caller, ws, source["id"], chunk[0]["id"])


@pytest.fixture
def pair(conn: Connection, make_user: Callable[[], Caller]) -> tuple[Owner, Owner]:
    return setup_owner(conn, make_user(), "marmalade"), setup_owner(conn, make_user(), "tangerine")


def test_each_user_reads_only_their_own_rows(conn: Connection, pair: tuple[Owner, Owner]) -> None:
    for me, other in (pair, pair[::-1]):
        assert rows(conn, me.caller, "select id from public.workspaces") == [{"id": me.workspace}]
        members = rows(
            conn, me.caller, "select workspace_id, user_id from public.workspace_members"
        )
        assert members == [{"workspace_id": me.workspace, "user_id": me.caller.user_id}]
        for table in ("sources", "chunks", "chunk_embeddings", "embedding_queue"):
            seen = rows(conn, me.caller, f"select distinct workspace_id from public.{table}")
            assert other.workspace not in {r["workspace_id"] for r in seen}, table
        assert rows(conn, me.caller, "select id from public.sources") == [{"id": me.source}]
        assert rows(conn, me.caller, "select id from public.chunks") == [{"id": me.chunk}]
        embedded = rows(conn, me.caller, "select chunk_id from public.chunk_embeddings")
        assert embedded == [{"chunk_id": me.chunk}]


def test_no_user_can_change_or_delete_another_users_rows(
    conn: Connection, pair: tuple[Owner, Owner]
) -> None:
    me, other = pair
    attempts = [
        ("update public.workspaces set name = 'mine' where id = %s", other.workspace),
        ("delete from public.workspaces where id = %s", other.workspace),
        (
            "update public.workspace_members set role = 'viewer' where workspace_id = %s",
            other.workspace,
        ),
        ("delete from public.workspace_members where workspace_id = %s", other.workspace),
        ("update public.sources set title = 'mine' where id = %s", other.source),
        ("delete from public.sources where id = %s", other.source),
        ("update public.chunks set content = 'mine' where id = %s", other.chunk),
        ("delete from public.chunks where id = %s", other.chunk),
    ]
    for sql, target in attempts:
        assert affected(conn, me.caller, sql, [target]) == 0, sql
    # Nothing changed for the owner.
    assert rows(conn, other.caller, "select title from public.sources") == [
        {"title": "tangerine notes"}
    ]
    content = rows(conn, other.caller, "select content from public.chunks")
    assert content == [{"content": "The secret word is tangerine."}]


@pytest.mark.parametrize(
    "sql",
    [
        # Joining someone else's workspace, or creating one in their name.
        "insert into public.workspace_members (workspace_id, user_id, role)"
        " values (%(ws)s, auth.uid(), 'owner')",
        "insert into public.workspaces (name, owner_id) values ('x', %(owner)s)",
        "insert into public.workspaces (name, owner_id, is_personal)"
        " values ('second personal', auth.uid(), true)",
        # Writing into someone else's workspace.
        "insert into public.sources (workspace_id, kind, platform, content_hash)"
        " values (%(ws)s, 'text', 'notes', repeat('a', 64))",
        "insert into public.chunks (source_id, workspace_id, message_index, chunk_index, role,"
        " content, token_count) values (%(source)s, %(ws)s, 9, 0, 'user', 'x', 1)",
    ],
)
def test_no_user_can_write_into_another_users_workspace(
    conn: Connection, pair: tuple[Owner, Owner], sql: str
) -> None:
    me, other = pair
    params = {"ws": other.workspace, "owner": other.caller.user_id, "source": other.source}
    with pytest.raises(psycopg.errors.InsufficientPrivilege), transaction_as(conn, me.caller):
        conn.execute(sql, params)


@pytest.mark.parametrize(
    "sql",
    [
        "insert into public.chunk_embeddings (chunk_id, model_id, workspace_id, embedding)"
        " values (%(chunk)s, 1, %(ws)s, %(vec)s::extensions.vector)",
        "insert into public.embedding_queue (chunk_id, model_id, workspace_id)"
        " values (%(chunk)s, 1, %(ws)s)",
        "delete from public.embedding_queue",
        "insert into public.embedding_models (provider, name, dims) values ('x', 'y', 3)",
    ],
)
def test_only_the_service_role_writes_embeddings_queue_and_models(
    conn: Connection, pair: tuple[Owner, Owner], sql: str
) -> None:
    me, _ = pair
    params = {"chunk": me.chunk, "ws": me.workspace, "vec": unit_vector(1)}
    with pytest.raises(psycopg.errors.InsufficientPrivilege), transaction_as(conn, me.caller):
        conn.execute(sql, params)


def test_hybrid_search_finds_only_the_callers_passages(
    conn: Connection, pair: tuple[Owner, Owner]
) -> None:
    me, other = pair
    for query, expected in (("marmalade", [me.chunk]), ("tangerine", [])):
        found = rows(
            conn,
            me.caller,
            "select chunk_id from public.hybrid_search(%s, %s::extensions.vector, 1)",
            [query, unit_vector(0)],
        )
        # The vector branch would match both passages equally: only mine may come back.
        assert [r["chunk_id"] for r in found] == [me.chunk]
        keyword = rows(conn, me.caller, "select chunk_id from public.hybrid_search(%s)", [query])
        assert [r["chunk_id"] for r in keyword] == expected
    assert other.chunk not in {
        r["chunk_id"]
        for r in rows(
            conn,
            me.caller,
            "select chunk_id from public.hybrid_search(%s, filters => %s::jsonb)",
            ["tangerine", f'{{"workspace_id": "{other.workspace}"}}'],
        )
    }


def test_anonymous_role_sees_nothing(conn: Connection, pair: tuple[Owner, Owner]) -> None:
    for table in TABLES:
        with (
            pytest.raises(psycopg.errors.InsufficientPrivilege),
            transaction_as(conn, Caller.anon()),
        ):
            conn.execute(f"select * from public.{table}")
    with pytest.raises(psycopg.errors.InsufficientPrivilege), transaction_as(conn, Caller.anon()):
        conn.execute("select * from public.hybrid_search('marmalade')")


def test_shared_workspace_roles(conn: Connection, pair: tuple[Owner, Owner]) -> None:
    """The membership helper: a viewer reads, an editor writes, only the owner manages."""
    owner, guest = pair
    with transaction_as(conn, owner.caller):
        team = conn.execute("select public.create_workspace('Team') as id").fetchone()
        assert team is not None
    add_member(conn, owner.caller, team["id"], guest.caller, "viewer")
    with transaction_as(conn, owner.caller.as_writer()):
        conn.execute(
            "insert into public.sources (workspace_id, kind, platform, content_hash)"
            " values (%s, 'text', 'notes', repeat('b', 64))",
            [team["id"]],
        )
    seen = rows(conn, guest.caller, "select workspace_id from public.sources")
    assert {r["workspace_id"] for r in seen} == {guest.workspace, team["id"]}
    assert (
        affected(
            conn, guest.caller, "delete from public.sources where workspace_id = %s", [team["id"]]
        )
        == 0
    )
    # A viewer cannot promote themselves.
    assert (
        affected(
            conn,
            guest.caller,
            "update public.workspace_members set role = 'owner' where user_id = auth.uid()"
            " and workspace_id = %s",
            [team["id"]],
        )
        == 0
    )
    with transaction_as(conn, owner.caller):
        conn.execute(
            "select public.set_member_role(%s, %s, 'editor')", [team["id"], guest.caller.user_id]
        )
    assert (
        affected(
            conn, guest.caller, "delete from public.sources where workspace_id = %s", [team["id"]]
        )
        == 1
    )
    # Removed from the team, the guest sees none of it.
    with transaction_as(conn, owner.caller):
        conn.execute(
            "select public.remove_workspace_member(%s, %s)", [team["id"], guest.caller.user_id]
        )
    assert rows(conn, guest.caller, "select id from public.workspaces") == [{"id": guest.workspace}]


def test_new_users_get_a_personal_workspace_they_own(
    conn: Connection, make_user: Callable[[], Caller]
) -> None:
    user = make_user()
    found = rows(
        conn,
        user,
        "select w.name, w.is_personal, w.embedding_model_id, m.role from public.workspaces w"
        " join public.workspace_members m on m.workspace_id = w.id and m.user_id = auth.uid()",
    )
    assert found == [
        {"name": "Personal", "is_personal": True, "embedding_model_id": 1, "role": "owner"}
    ]


def test_api_keys_and_import_jobs_are_private(conn: Connection, pair: tuple[Owner, Owner]) -> None:
    me, other = pair
    with transaction_as(conn, Caller.service()):
        for owner in pair:
            conn.execute(
                "insert into public.api_keys (user_id, provider, ciphertext, nonce, key_version,"
                " last_four) values (%s, 'openai', 'x', repeat('n', 12)::bytea, 1, 'abcd')",
                [owner.caller.user_id],
            )
            conn.execute(
                "insert into public.import_jobs (user_id, workspace_id) values (%s, %s)",
                [owner.caller.user_id, owner.workspace],
            )
    seen = rows(conn, me.caller, "select user_id, last_four from public.api_keys")
    assert seen == [{"user_id": me.caller.user_id, "last_four": "abcd"}]
    jobs = rows(conn, me.caller, "select workspace_id from public.import_jobs")
    assert jobs == [{"workspace_id": me.workspace}]
    # The ciphertext is never readable through the API roles, not even one's own.
    for column in ("ciphertext", "nonce"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege), transaction_as(conn, me.caller):
            conn.execute(f"select {column} from public.api_keys")
    with pytest.raises(psycopg.errors.InsufficientPrivilege), transaction_as(conn, me.caller):
        conn.execute(
            "insert into public.api_keys (user_id, provider, ciphertext, nonce, key_version,"
            " last_four) values (auth.uid(), 'gemini', 'x', repeat('n', 12)::bytea, 1, 'x')"
        )
    assert (
        affected(
            conn,
            me.caller,
            "delete from public.api_keys where user_id = %s",
            [other.caller.user_id],
        )
        == 0
    )
    assert (
        affected(
            conn,
            me.caller,
            "update public.import_jobs set status = 'failed' where user_id = %s",
            [other.caller.user_id],
        )
        == 0
    )
    with pytest.raises(psycopg.errors.InsufficientPrivilege), transaction_as(conn, me.caller):
        conn.execute(
            "insert into public.import_jobs (user_id, workspace_id) values (%s, %s)",
            [me.caller.user_id, other.workspace],
        )


def test_source_and_workspace_rpcs_see_only_the_callers_rows(
    conn: Connection, pair: tuple[Owner, Owner]
) -> None:
    me, other = pair
    listed = rows(conn, me.caller, "select id, title, passages from public.list_sources()")
    assert listed == [{"id": me.source, "title": "marmalade notes", "passages": 1}]
    assert rows(conn, me.caller, "select * from public.list_sources(%s)", [other.workspace]) == []
    mine = rows(conn, me.caller, "select content from public.source_passages(%s)", [me.source])
    assert mine == [{"content": "The secret word is marmalade."}]
    assert rows(conn, me.caller, "select * from public.source_passages(%s)", [other.source]) == []
    gone = rows(conn, me.caller, "select public.delete_source(%s) as ok", [other.source])
    assert gone == [{"ok": False}]
    assert rows(conn, other.caller, "select id from public.list_sources()") == [
        {"id": other.source}
    ]
    workspaces = rows(conn, me.caller, "select id, role from public.list_workspaces()")
    assert workspaces == [{"id": me.workspace, "role": "owner"}]
    models = rows(conn, me.caller, "select name from public.list_embedding_models()")
    assert {"name": "all-MiniLM-L6-v2"} in models
    switched = rows(
        conn,
        me.caller,
        "select public.set_workspace_embedding_model(%s, 1) as ok",
        [other.workspace],
    )
    assert switched == [{"ok": False}]
    deleted = rows(conn, me.caller, "select public.delete_source(%s) as ok", [me.source])
    assert deleted == [{"ok": True}]
    assert rows(conn, me.caller, "select * from public.list_sources()") == []
    with pytest.raises(psycopg.errors.InsufficientPrivilege), transaction_as(conn, Caller.anon()):
        conn.execute("select * from public.list_sources()")


def test_switching_models_queues_the_workspace_for_re_embedding(
    conn: Connection, pair: tuple[Owner, Owner]
) -> None:
    me, _ = pair
    with transaction_as(conn, Caller.service()):
        model = conn.execute(
            "insert into public.embedding_models (provider, name, dims)"
            " values ('test', %s, 8) returning id",
            [f"switch-{me.workspace}"],
        ).fetchone()
    assert model is not None
    ok = rows(
        conn,
        me.caller,
        "select public.set_workspace_embedding_model(%s, %s) as ok",
        [me.workspace, model["id"]],
    )
    assert ok == [{"ok": True}]
    queued = rows(
        conn,
        me.caller,
        "select chunk_id from public.embedding_queue where model_id = %s",
        [model["id"]],
    )
    assert queued == [{"chunk_id": me.chunk}]
