"""Every table x operation x caller, run as PostgREST runs it (`set local role`, the JWT's
claims in `request.jwt.claims`), against the access model of api/db/access.py (which is
docs/ACCESS.md). Each probe runs in a transaction that is rolled back."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest

from api.accounts.users import workspace_id
from api.db.access import CALLERS, ROLES, RPCS, TABLES, catalog_functions, catalog_tables
from api.db.session import Caller, Connection, connect, transaction_as
from api.importers.model import Conversation, Message
from api.pipeline.ingest import write_conversation
from tests.membership import add_member

PROBES: dict[tuple[str, str], str] = {
    ("embedding_models", "select"): "select 1 from public.embedding_models where id = %(model2)s",
    ("embedding_models", "insert"): "insert into public.embedding_models (provider, name, dims)"
    " values ('probe', 'probe-model', 3)",
    ("embedding_models", "update"): "update public.embedding_models set is_default = false"
    " where id = %(model2)s",
    ("embedding_models", "delete"): "delete from public.embedding_models where id = %(model2)s",
    ("workspaces", "select"): "select 1 from public.workspaces where id = %(ws)s",
    ("workspaces", "insert"): "insert into public.workspaces (name, owner_id)"
    " values ('probe', coalesce(auth.uid(), %(owner)s))",
    ("workspaces", "update(name)"): "update public.workspaces set name = 'renamed'"
    " where id = %(ws)s",
    ("workspaces", "update(is_personal)"): "update public.workspaces set is_personal = false"
    " where id = %(personal)s",
    ("workspaces", "update(owner_id)"): "update public.workspaces"
    " set owner_id = %(viewer)s where id = %(ws)s",
    ("workspaces", "delete"): "delete from public.workspaces where id = %(ws)s",
    ("workspaces", "delete personal"): "delete from public.workspaces where id = %(personal)s",
    ("workspace_members", "select"): "select 1 from public.workspace_members"
    " where workspace_id = %(ws)s and user_id = %(viewer)s",
    ("workspace_members", "insert"): "insert into public.workspace_members"
    " (workspace_id, user_id, role) values (%(ws)s, coalesce(auth.uid(), %(nonmember)s), 'owner')",
    ("workspace_members", "update"): "update public.workspace_members set role = 'owner'"
    " where workspace_id = %(ws)s and user_id = %(viewer)s",
    ("workspace_members", "delete"): "delete from public.workspace_members"
    " where workspace_id = %(ws)s and user_id = %(viewer)s",
    ("workspace_invitations", "select"): "select 1 from public.workspace_invitations"
    " where id = %(invitation)s",
    ("workspace_invitations", "insert"): "insert into public.workspace_invitations"
    " (workspace_id, user_id, role) values (%(ws)s, %(viewer)s, 'owner')",
    ("workspace_invitations", "update"): "update public.workspace_invitations"
    " set status = 'accepted' where id = %(invitation)s",
    ("workspace_invitations", "delete"): "delete from public.workspace_invitations"
    " where id = %(invitation)s",
    ("sources", "select"): "select 1 from public.sources where id = %(source)s",
    ("sources", "insert"): "insert into public.sources"
    " (workspace_id, kind, platform, content_hash, created_by)"
    " values (%(ws)s, 'text', 'notes', repeat('e', 64), %(owner)s)",
    ("sources", "update(title)"): "update public.sources set title = 'renamed'"
    " where id = %(source)s",
    ("sources", "update(thread_id)"): "update public.sources set thread_id = null"
    " where id = %(source)s",
    ("sources", "delete"): "delete from public.sources where id = %(source)s",
    ("chunks", "select"): "select 1 from public.chunks where id = %(chunk)s",
    ("chunks", "insert"): "insert into public.chunks (source_id, workspace_id, message_index,"
    " chunk_index, role, content, token_count)"
    " values (%(source)s, %(ws)s, 99, 0, 'user', 'planted', 1)",
    ("chunks", "update"): "update public.chunks set content = 'changed' where id = %(chunk)s",
    ("chunks", "delete"): "delete from public.chunks where id = %(chunk)s",
    ("chunk_embeddings", "select"): "select 1 from public.chunk_embeddings"
    " where chunk_id = %(chunk)s",
    ("chunk_embeddings", "insert"): "insert into public.chunk_embeddings"
    " (chunk_id, model_id, workspace_id, embedding) values (%(chunk)s, 1, %(ws)s,"
    " array_fill(0.5::real, array[384])::extensions.vector)",
    ("chunk_embeddings", "update"): "update public.chunk_embeddings set embedding = embedding"
    " where chunk_id = %(chunk)s",
    ("chunk_embeddings", "delete"): "delete from public.chunk_embeddings"
    " where chunk_id = %(chunk)s",
    ("embedding_queue", "select"): "select 1 from public.embedding_queue"
    " where chunk_id = %(chunk)s",
    ("embedding_queue", "insert"): "insert into public.embedding_queue"
    " (chunk_id, model_id, workspace_id) values (%(chunk)s, %(model2)s, %(ws)s)",
    ("embedding_queue", "update"): "update public.embedding_queue set enqueued_at = now()"
    " where chunk_id = %(chunk)s",
    ("embedding_queue", "delete"): "delete from public.embedding_queue where chunk_id = %(chunk)s",
    ("api_keys", "select"): "select user_id, provider, last_four from public.api_keys"
    " where user_id = %(owner)s",
    ("api_keys", "select(ciphertext)"): "select ciphertext from public.api_keys"
    " where user_id = %(owner)s",
    ("api_keys", "insert"): "insert into public.api_keys"
    " (user_id, provider, ciphertext, nonce, key_version, last_four)"
    " values (coalesce(auth.uid(), %(owner)s), 'gemini', 'x', repeat('n', 12)::bytea, 1, 'abcd')",
    ("api_keys", "update"): "update public.api_keys set last_four = 'zzzz'"
    " where user_id = %(owner)s",
    ("api_keys", "delete"): "delete from public.api_keys where user_id = %(owner)s",
    ("access_tokens", "select"): "select name from public.access_tokens where id = %(token)s",
    ("access_tokens", "select(token_hash)"): "select token_hash from public.access_tokens"
    " where id = %(token)s",
    ("access_tokens", "insert"): "insert into public.access_tokens"
    " (user_id, name, token_prefix, token_hash, scope, expires_at) values (%(owner)s, 'planted',"
    " 'knt_planted0', sha256('planted'::bytea), 'read-write', now() + interval '1 year')",
    ("access_tokens", "update"): "update public.access_tokens set revoked_at = null,"
    " expires_at = now() + interval '10 years' where id = %(token)s",
    ("access_tokens", "delete"): "delete from public.access_tokens where id = %(token)s",
    ("import_jobs", "select"): "select 1 from public.import_jobs where id = %(job)s",
    ("import_jobs", "insert"): "insert into public.import_jobs (workspace_id, user_id)"
    " values (%(ws)s, %(owner)s)",
    ("import_jobs", "update(status)"): "update public.import_jobs set status = 'succeeded'"
    " where id = %(job)s",
    ("import_jobs", "delete"): "delete from public.import_jobs where id = %(job)s",
    ("search_history", "select"): "select 1 from public.search_history where id = %(history)s",
    ("search_history", "insert"): "insert into public.search_history"
    " (user_id, query, workspace_id) values (%(owner)s, 'probe', %(ws)s)",
    ("search_history", "update"): "update public.search_history set query = 'changed'"
    " where id = %(history)s",
    ("search_history", "delete"): "delete from public.search_history where id = %(history)s",
    ("micro_threads", "select"): "select 1 from public.micro_threads where id = %(micro)s",
    ("micro_threads", "insert"): "insert into public.micro_threads"
    " (chunk_id, workspace_id, user_id, question, answer, model)"
    " values (%(chunk)s, %(ws)s, %(owner)s, 'q', 'planted answer', 'gpt-4o')",
    ("micro_threads", "update"): "update public.micro_threads set answer = 'changed'"
    " where id = %(micro)s",
    ("micro_threads", "delete"): "delete from public.micro_threads where id = %(micro)s",
    ("topic_threads", "select"): "select 1 from public.topic_threads where id = %(thread)s",
    ("topic_threads", "insert"): "insert into public.topic_threads (workspace_id, title)"
    " values (%(ws)s, 'probe')",
    ("topic_threads", "update(title)"): "update public.topic_threads set title = 'renamed'"
    " where id = %(thread)s",
    ("topic_threads", "update(summary)"): "update public.topic_threads set summary = 'planted'"
    " where id = %(thread)s",
    ("topic_threads", "delete"): "delete from public.topic_threads where id = %(thread)s",
}


@dataclass
class World:
    callers: dict[str, Caller]
    params: dict[str, Any]


def new_user(conn: Connection, *, anonymous: bool = False) -> Caller:
    email = None if anonymous else f"{uuid.uuid4().hex[:10]}@example.com"
    row = conn.execute(
        "insert into auth.users (email, is_anonymous) values (%s, %s) returning id",
        [email, anonymous],
    ).fetchone()
    assert row is not None
    return Caller.user(row["id"], email, anonymous=anonymous)


def one(conn: Connection, caller: Caller, sql: str, params: Any = None) -> Any:
    with transaction_as(conn, caller):
        row = conn.execute(sql, params).fetchone()
    assert row is not None
    return row["v"]


@pytest.fixture(scope="module")
def world(db_url: str) -> World:
    with connect(db_url) as conn:
        conn.autocommit = True
        owner, viewer, editor, nonmember = (new_user(conn) for _ in range(4))
        guest = new_user(conn, anonymous=True)
        ws = one(conn, owner, "select public.create_workspace('Matrix team') as v")
        add_member(conn, owner, ws, viewer, "viewer")
        add_member(conn, owner, ws, editor, "editor")
        conversation = Conversation(
            kind="text",
            platform="notes",
            title="Matrix notes",
            messages=[Message(role="document", text="The matrix word is quince.")],
        )
        write_conversation(conn, owner, ws, conversation)
        source = one(
            conn, owner, "select id as v from public.sources where workspace_id = %s", [ws]
        )
        chunk = one(conn, owner, "select id as v from public.chunks where source_id = %s", [source])
        service = Caller.service()
        model2 = one(
            conn,
            service,
            "insert into public.embedding_models (provider, name, dims)"
            " values ('matrix', 'three', 3) returning id as v",
        )
        with transaction_as(conn, service):
            conn.execute(
                "insert into public.chunk_embeddings (chunk_id, model_id, workspace_id, embedding)"
                " values (%s, %s, %s, '[0,1,0]')",
                [chunk, model2, ws],
            )
            conn.execute(
                "insert into public.api_keys (user_id, provider, ciphertext, nonce, key_version,"
                " last_four) values (%s, 'openai', 'x', repeat('n', 12)::bytea, 1, 'abcd')",
                [owner.user_id],
            )
        writer = owner.as_writer()
        thread = one(
            conn,
            owner,
            "insert into public.topic_threads (workspace_id, title) values (%s, 't')"
            " returning id as v",
            [ws],
        )
        with transaction_as(conn, owner):
            conn.execute("update public.sources set thread_id = %s where id = %s", [thread, source])
        job = one(
            conn,
            writer,
            "insert into public.import_jobs (workspace_id) values (%s) returning id as v",
            [ws],
        )
        micro = one(
            conn,
            writer,
            "insert into public.micro_threads (chunk_id, workspace_id, question, answer)"
            " values (%s, %s, 'q', 'a') returning id as v",
            [chunk, ws],
        )
        history = one(
            conn,
            owner,
            "insert into public.search_history (query, workspace_id) values ('quince', %s)"
            " returning id as v",
            [ws],
        )
        invitation = one(
            conn,
            owner,
            "select public.invite_to_workspace(%s, invitee_id => %s) as v",
            [ws, nonmember.user_id],
        )
        token = one(
            conn,
            owner,
            "select id as v from public.create_access_token('matrix', 'read', 30)",
        )
        personal = workspace_id(conn, owner)
    callers = {
        "anonymous": Caller.anon(),
        "guest": guest,
        "non-member": nonmember,
        "viewer": viewer,
        "editor": editor,
        "owner": owner,
        "api": editor.as_writer(),
        "service": service,
    }
    params = {
        "ws": ws,
        "personal": personal,
        "source": source,
        "chunk": chunk,
        "model2": model2,
        "thread": thread,
        "job": job,
        "micro": micro,
        "history": history,
        "invitation": invitation,
        "token": token,
        "owner": owner.user_id,
        "viewer": viewer.user_id,
        "nonmember": nonmember.user_id,
    }
    return World(callers, params)


def allowed(conn: Connection, caller: Caller, sql: str, params: dict[str, Any]) -> bool:
    """True if the statement touched (or returned) a row; False if refused or no rows."""
    try:
        with conn.transaction(force_rollback=True), transaction_as(conn, caller):
            return conn.execute(sql, params).rowcount > 0
    except psycopg.errors.InsufficientPrivilege:
        return False


OPERATIONS = [(t.name, o) for t in TABLES for o in t.operations]


def test_every_probe_is_in_the_model_and_back() -> None:
    assert set(PROBES) == {(name, o.name) for name, o in OPERATIONS}


@pytest.mark.parametrize(
    ("table", "operation"), OPERATIONS, ids=[f"{t}:{o.name}" for t, o in OPERATIONS]
)
def test_access_matrix(conn: Connection, world: World, table: str, operation: Any) -> None:
    sql = PROBES[(table, operation.name)]
    seen = {name: allowed(conn, c, sql, world.params) for name, c in world.callers.items()}
    expected = {name: name in operation.allowed for name in CALLERS}
    assert seen == expected


def test_every_table_and_rpc_is_in_the_access_model(conn: Connection) -> None:
    """A new table or function fails here until api/db/access.py (docs/ACCESS.md) has it."""
    assert catalog_tables(conn) == sorted(t.name for t in TABLES)
    assert catalog_functions(conn) == sorted(RPCS)


def test_rpc_execute_grants_are_the_models(conn: Connection) -> None:
    for name, (roles, _) in RPCS.items():
        rows = conn.execute(
            "select p.oid::regprocedure::text as fn,"
            " has_function_privilege('anon', p.oid, 'execute') as anon,"
            " has_function_privilege('authenticated', p.oid, 'execute') as authenticated,"
            " has_function_privilege('service_role', p.oid, 'execute') as service_role"
            " from pg_proc p where p.pronamespace = 'public'::regnamespace and p.proname = %s",
            [name],
        ).fetchall()
        assert rows, name
        for row in rows:
            got = {r for r in ("anon", "authenticated", "service_role") if row[r]}
            assert got == set(roles), row["fn"]


@pytest.mark.parametrize("role", ROLES)
def test_no_api_role_may_truncate_trigger_or_reference(conn: Connection, role: str) -> None:
    held = conn.execute(
        "select c.relname, p.privilege from pg_class c"
        " cross join unnest(array['TRUNCATE', 'TRIGGER', 'REFERENCES']) p(privilege)"
        " where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p')"
        "   and has_table_privilege(%s, c.oid, p.privilege)",
        [role],
    ).fetchall()
    assert held == []
    caller = Caller(role, {"role": role})
    for table in catalog_tables(conn):
        with pytest.raises(psycopg.errors.InsufficientPrivilege), transaction_as(conn, caller):
            conn.execute(f"truncate public.{table} cascade")


def test_authorship_comes_from_auth_uid(conn: Connection, world: World) -> None:
    """The API's writer role names someone else as author: the database writes the caller."""
    editor = world.callers["editor"].as_writer()
    p = world.params
    with conn.transaction(force_rollback=True), transaction_as(conn, editor):
        created_by = conn.execute(
            "insert into public.sources (workspace_id, kind, platform, content_hash, created_by)"
            " values (%(ws)s, 'text', 'notes', repeat('f', 64), %(owner)s) returning created_by",
            p,
        ).fetchone()
        job = conn.execute(
            "insert into public.import_jobs (workspace_id, user_id) values (%(ws)s, %(owner)s)"
            " returning user_id",
            p,
        ).fetchone()
        asked = conn.execute(
            "insert into public.micro_threads (chunk_id, workspace_id, user_id, question, answer)"
            " values (%(chunk)s, %(ws)s, %(owner)s, 'q', 'a') returning user_id",
            p,
        ).fetchone()
        changed = conn.execute(
            "update public.sources set created_by = %(viewer)s where id = %(source)s"
            " returning created_by",
            p,
        ).fetchone()
    me = editor.user_id
    assert created_by == {"created_by": me}
    assert job == {"user_id": me}
    assert asked == {"user_id": me}
    assert changed == {"created_by": p["owner"]}  # kept: the owner imported it
