"""The migrations: apply cleanly (twice), follow the house rules, and run on PostgreSQL 15."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from api.db.embedded import EmbeddedPostgres
from api.db.migrate import MIGRATIONS_DIR, apply_shim, is_supabase, migrate, migrations, pending
from api.db.session import Connection, connect

PG15_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def schema_summary(conn: Connection) -> dict[str, int]:
    row = conn.execute(
        """
        select
          (select count(*) from pg_tables where schemaname = 'public') as tables,
          (select count(*) from pg_policies where schemaname = 'public') as policies,
          (select count(*) from pg_proc p join pg_namespace n on n.oid = p.pronamespace
            where n.nspname in ('public', 'private')) as functions,
          (select count(*) from pg_indexes where schemaname = 'public') as indexes
        """
    ).fetchone()
    assert row is not None
    return dict(row)


def apply_twice(url: str) -> None:
    with connect(url) as conn:
        conn.autocommit = True
        first = migrate(conn)
        assert [m.version for m in first] == [m.version for m in migrations()]
        summary = schema_summary(conn)
        assert migrate(conn) == []
        assert pending(conn) == []
        assert schema_summary(conn) == summary
        recorded = conn.execute(
            "select version, name from supabase_migrations.schema_migrations order by version"
        ).fetchall()
        assert [(r["version"], r["name"]) for r in recorded] == [
            (m.version, m.name) for m in migrations()
        ]


def test_migrations_apply_twice_on_a_fresh_database(new_database: Callable[[], str]) -> None:
    apply_twice(new_database())


def test_migration_file_names_are_timestamped() -> None:
    files = sorted(p.name for p in MIGRATIONS_DIR.glob("*"))
    assert files, "no migrations found"
    for name in files:
        assert re.fullmatch(r"\d{14}_[a-z0-9_]+\.sql", name), name
    assert len(migrations()) == len(files)


def test_every_table_has_rls_and_every_function_a_search_path(conn: Connection) -> None:
    without_rls = conn.execute(
        """
        select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'public' and c.relkind = 'r' and not c.relrowsecurity
        """
    ).fetchall()
    assert without_rls == []
    without_path = conn.execute(
        """
        select n.nspname || '.' || p.proname as fn
        from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname in ('public', 'private')
          and not exists (select from unnest(p.proconfig) c where c = 'search_path=""')
        """
    ).fetchall()
    assert without_path == []


def test_every_policy_column_is_indexed(conn: Connection) -> None:
    """Supabase's advice: index every column a policy reads (workspace_id, owner_id, ...)."""
    policies = conn.execute(
        "select tablename, qual, with_check from pg_policies where schemaname = 'public'"
    ).fetchall()
    for policy in policies:
        text = f"{policy['qual'] or ''} {policy['with_check'] or ''}"
        for column in re.findall(r"\b(workspace_id|owner_id|user_id|id)\b", text):
            indexed = conn.execute(
                """
                select exists (
                  select from pg_index i
                  join pg_attribute a on a.attrelid = i.indrelid and a.attnum = i.indkey[0]
                  where i.indrelid = ('public.' || %s)::regclass and a.attname = %s
                ) as yes
                """,
                [policy["tablename"], column],
            ).fetchone()
            assert indexed and indexed["yes"], f"{policy['tablename']}.{column} is not indexed"


def test_migrations_use_no_postgres18_only_or_pgcrypto_features() -> None:
    forbidden = [
        r"\buuidv7\s*\(",
        r"\bvirtual\b",
        r"\bgen_random_bytes\b",
        r"\bcrypt\s*\(",
        r"\bdigest\s*\(",
        r"create extension(?!.*with schema extensions)",
    ]
    for migration in migrations():
        sql = migration.sql.lower()
        for pattern in forbidden:
            assert not re.search(pattern, sql), f"{migration.path.name}: {pattern}"


def test_shim_is_not_applied_to_a_supabase_database(tmp_path: Path) -> None:
    """On Supabase, `auth` and the roles belong to Supabase: migrate must not touch them.
    Whether a database is a Supabase project is read from that database, never from the
    server's roles: a plain database beside it still gets the shim."""
    server = EmbeddedPostgres(tmp_path / "pgdata")
    url = server.start()
    try:
        with connect(url) as conn:
            conn.autocommit = True
            # Server-wide traces of Supabase, which say nothing about this database.
            conn.execute("create role supabase_admin")
            conn.execute("create database supabase_project")
            conn.execute("create database plain")
        with connect(url.rsplit("/", 1)[0] + "/supabase_project") as conn:
            conn.autocommit = True
            # What a Supabase database already has: auth (GoTrue's), the roles, extensions.
            apply_shim(conn)
            conn.execute("comment on schema auth is 'owned by Supabase'")
            conn.execute(
                "create or replace function auth.uid() returns uuid language sql"
                " stable set search_path = '' as $$ select null::uuid $$"
            )
            assert is_supabase(conn)
            migrate(conn)
            comment = conn.execute("select obj_description('auth'::regnamespace) as c").fetchone()
            assert comment and comment["c"] == "owned by Supabase"
            assert pending(conn) == []
        with connect(url.rsplit("/", 1)[0] + "/plain") as conn:
            conn.autocommit = True
            assert not is_supabase(conn)
            migrate(conn)
            assert is_supabase(conn) is False  # the shim's own auth schema
            assert pending(conn) == []
    finally:
        server.stop()


def _pg15_with_vector() -> str | None:
    try:
        with psycopg.connect(PG15_URL, connect_timeout=3) as conn:
            version = conn.execute("show server_version_num").fetchone()
            vector = conn.execute(
                "select default_version from pg_available_extensions where name = 'vector'"
            ).fetchone()
    except psycopg.OperationalError:
        return "no PostgreSQL on 127.0.0.1:5432"
    if not version or not version[0].startswith("15"):
        return "the PostgreSQL on 127.0.0.1:5432 is not version 15"
    if not vector:
        return (
            "pgvector is not installed for PostgreSQL 15 (../shared/tools/build-pgvector-pg15.sh)"
        )
    return None


def test_migrations_apply_twice_on_postgres15_with_pgvector() -> None:
    """What Supabase runs: PostgreSQL 15 with pgvector 0.8.0, in a scratch database."""
    reason = _pg15_with_vector()
    if reason:
        pytest.skip(reason)
    name = f"knitter_pg15_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG15_URL, autocommit=True) as admin:
        admin.execute(f'create database "{name}"')
    try:
        apply_twice(PG15_URL.rsplit("/", 1)[0] + f"/{name}")
    finally:
        with psycopg.connect(PG15_URL, autocommit=True) as admin:
            admin.execute(f'drop database "{name}" with (force)')
