"""The migrations as Supabase applies them: on PostgreSQL 15 with pgvector, in a database
shaped like a Supabase project (tests/fixtures/supabase/project.sql: the API roles and
grants, Supabase's default privileges, GoTrue's `auth` schema), each file in its own new
session as a non-superuser stand-in for Supabase's `postgres` (createrole, createdb,
bypassrls, member of the API roles). Then a smoke test: a sign-up as GoTrue writes it, an
import and a search through the RPCs as `authenticated`, and an invitation accepted."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from api.accounts.users import workspace_id
from api.db.migrate import is_supabase, load_extension_libraries, migrate, migrations, pending
from api.db.session import Caller, connect, transaction_as
from api.embeddings.local import DEFAULT_MODEL
from api.importers.model import Conversation, Message
from api.pipeline.ingest import write_conversation
from api.search.hybrid import warm_up
from tests.test_migrations import PG15_URL, _pg15_with_vector

PROJECT_SQL = Path(__file__).parent / "fixtures" / "supabase" / "project.sql"
SERVER = PG15_URL.rsplit("/", 1)[0]


@dataclass(frozen=True)
class Project:
    owner_url: str
    admin_url: str


@pytest.fixture(scope="module")
def project() -> Iterator[Project]:
    reason = _pg15_with_vector()
    if reason:
        pytest.skip(reason)
    # Roles are server-wide: the owner's name is unique per run and dropped afterwards,
    # even when the test fails. The API roles keep Supabase's names (the migrations name
    # them) and are shared, as they are on every Supabase server.
    suffix = uuid.uuid4().hex[:10]
    owner, database = f"k13_owner_{suffix}", f"k13_supabase_{suffix}"
    password = uuid.uuid4().hex
    with psycopg.connect(PG15_URL, autocommit=True) as admin:
        admin.execute(
            sql.SQL(
                "create role {} login nosuperuser createrole createdb bypassrls password {}"
            ).format(sql.Identifier(owner), sql.Literal(password))
        )
        admin.execute(sql.SQL("create database {}").format(sql.Identifier(database)))
    try:
        admin_url = f"{SERVER}/{database}"
        text = PROJECT_SQL.read_text(encoding="utf-8")
        text = text.replace("OWNER_ROLE", f'"{owner}"').replace("DATABASE_NAME", f'"{database}"')
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(text.encode())
        yield Project(f"postgresql://{owner}:{password}@127.0.0.1:5432/{database}", admin_url)
    finally:
        with psycopg.connect(PG15_URL, autocommit=True) as admin:
            admin.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(database))
            )
            admin.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(owner)))


def apply_each_in_its_own_session(url: str) -> list[str]:
    """What `knitter migrate` does for a file, but one new connection per file."""
    applied = []
    for migration in migrations():
        with connect(url) as conn, conn.transaction():
            conn.execute(
                "create schema if not exists supabase_migrations;"
                " create table if not exists supabase_migrations.schema_migrations"
                " (version text primary key, statements text[], name text)"
            )
            load_extension_libraries(conn)
            try:
                conn.execute(migration.sql.encode())
            except psycopg.Error as exc:
                pytest.fail(f"{migration.path.name}: {exc.diag.message_primary or exc}")
            conn.execute(
                "insert into supabase_migrations.schema_migrations (version, statements,"
                " name) values (%s, %s, %s)",
                [migration.version, [migration.sql], migration.name],
            )
        applied.append(migration.version)
    return applied


def sign_up_as_gotrue(admin_url: str, email: str) -> Caller:
    """The row GoTrue writes on an email sign-up (as its own admin role, the table owner)."""
    user_id = uuid.uuid4()
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(
            "insert into auth.users (instance_id, id, aud, role, email, encrypted_password,"
            " email_confirmed_at, raw_app_meta_data, raw_user_meta_data, created_at,"
            " updated_at, is_anonymous) values ('00000000-0000-0000-0000-000000000000', %s,"
            " 'authenticated', 'authenticated', %s, '$2a$10$x', now(),"
            ' \'{"provider": "email", "providers": ["email"]}\', \'{}\', now(), now(), false)',
            [user_id, email],
        )
    return Caller.user(user_id, email)


@pytest.fixture(scope="module")
def applied(project: Project) -> list[str]:
    return apply_each_in_its_own_session(project.owner_url)


def test_migrations_apply_one_session_each_as_supabases_postgres(
    project: Project, applied: list[str]
) -> None:
    with connect(project.owner_url) as conn:
        row = conn.execute(
            "select rolsuper, rolcreaterole, rolbypassrls from pg_roles"
            " where rolname = current_user"
        ).fetchone()
    assert row == {"rolsuper": False, "rolcreaterole": True, "rolbypassrls": True}
    assert applied == [m.version for m in migrations()]
    with connect(project.owner_url) as conn:
        conn.autocommit = True
        # knitter migrate sees a Supabase project (its own auth schema), leaves it alone and
        # finds nothing pending.
        assert is_supabase(conn)
        assert pending(conn) == []
        assert migrate(conn) == []
        comment = conn.execute("select obj_description('auth'::regnamespace) as c").fetchone()
        assert comment == {"c": None}


def test_smoke_sign_up_import_search_and_invite(project: Project, applied: list[str]) -> None:
    with connect(project.owner_url) as conn:
        conn.autocommit = True
        alice = sign_up_as_gotrue(project.admin_url, f"alice-{uuid.uuid4().hex[:6]}@example.com")
        bob_email = f"bob-{uuid.uuid4().hex[:6]}@example.com"
        bob = sign_up_as_gotrue(project.admin_url, bob_email)
        personal = workspace_id(conn, alice)  # made by the sign-up trigger
        with transaction_as(conn, alice):
            team = conn.execute("select public.create_workspace('Smoke') as id").fetchone()
        assert team is not None
        for ws, word in ((personal, "gooseberry"), (team["id"], "elderflower")):
            note = Conversation(
                kind="text",
                platform="notes",
                title=f"{word} notes",
                messages=[Message(role="document", text=f"Pick the {word} early.")],
            )
            assert write_conversation(conn, alice, ws, note)[0] == "added"

        def search(caller: Caller, word: str) -> list[str]:
            with transaction_as(conn, caller):
                rows = conn.execute(
                    "select content from public.hybrid_search(%s)", [word]
                ).fetchall()
            return [r["content"] for r in rows]

        assert search(alice, "gooseberry") == ["Pick the gooseberry early."]
        assert search(bob, "elderflower") == []
        with transaction_as(conn, alice):
            invitation = conn.execute(
                "with i as (select public.invite_to_workspace(%s, email => %s) as id)"
                " select id, public.issue_invitation_link(id) as token from i",
                [team["id"], bob_email],
            ).fetchone()
        assert invitation is not None
        assert search(bob, "elderflower") == []
        with transaction_as(conn, bob):
            conn.execute(
                "select public.accept_invitation(%s, %s)", [invitation["id"], invitation["token"]]
            )
        assert search(bob, "elderflower") == ["Pick the elderflower early."]
        assert search(bob, "gooseberry") == []
        # The API's warm-up of each new connection (as nobody, then as the service role)
        # runs as Supabase's roles allow, and leaves nothing.
        warm_up(conn, DEFAULT_MODEL)
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        # Nobody writes passages straight into the table, as PostgREST would let them.
        with pytest.raises(psycopg.errors.InsufficientPrivilege), transaction_as(conn, bob):
            conn.execute(
                "insert into public.chunks (source_id, workspace_id, message_index,"
                " chunk_index, role, content, token_count)"
                " select id, workspace_id, 5, 0, 'user', 'planted', 1 from public.sources"
            )


def test_without_pgvector_loaded_a_function_level_hnsw_setting_is_refused(
    project: Project, applied: list[str]
) -> None:
    """Why the landed hybrid_search migration needs pgvector loaded in its session, and why
    20261201130600 moves the settings into the function body."""
    with connect(project.owner_url) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(
            "create function public.k13_probe() returns int language sql"
            " set hnsw.iterative_scan = 'relaxed_order' as 'select 1'"
        )
    with connect(project.owner_url) as conn, transaction_as(conn, Caller.service()):
        setting = conn.execute(
            "select p.proconfig from pg_proc p where p.oid = 'public.hybrid_search'::regproc"
        ).fetchone()
    assert setting == {"proconfig": ['search_path=""']}
