"""Apply supabase/migrations in order, recorded where the Supabase CLI records them.

On a database that is not a Supabase project, the local Supabase shim (roles, `auth`,
`extensions`) is applied first; on Supabase it already exists and is left alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from api.db.session import Connection
from api.errors import KnitterError

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "supabase" / "migrations"
ROLES = Path(__file__).with_name("supabase_roles.sql")
SHIM = Path(__file__).with_name("supabase_shim.sql")
FILE_NAME = re.compile(r"^(\d{14})_([a-z0-9_]+)\.sql$")
# Any constant will do; it keeps two `knitter migrate` runs from interleaving.
LOCK_ID = 0x6B6E6974


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")


def migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    found = []
    for path in sorted(directory.glob("*.sql")):
        match = FILE_NAME.match(path.name)
        if not match:
            raise KnitterError(f"migration {path.name} is not named YYYYMMDDHHMMSS_name.sql")
        found.append(Migration(match[1], match[2], path))
    return found


SHIM_MARK = "knitter local Supabase shim"


def is_supabase(conn: Connection) -> bool:
    """True when this database is a Supabase project: it has an `auth.users` that the local
    shim did not make. Only the target database counts (roles are server-wide, so a
    Supabase-shaped database beside this one must not change the answer)."""
    row = conn.execute(
        "select to_regclass('auth.users') is not null and coalesce((select"
        " obj_description(n.oid, 'pg_namespace') from pg_namespace n where n.nspname = 'auth'),"
        " '') <> %s as yes",
        [SHIM_MARK],
    ).fetchone()
    return bool(row and row["yes"])


def load_extension_libraries(conn: Connection) -> None:
    """Loads pgvector's library into the session when the extension is installed, so its
    settings (hnsw.*) are real ones: as bare placeholders only a superuser may attach them to
    a function, which the landed hybrid_search migration does. Any role may call a function."""
    row = conn.execute(
        "select n.nspname from pg_extension e join pg_namespace n on n.oid = e.extnamespace"
        " where e.extname = 'vector'"
    ).fetchone()
    if row:
        conn.execute(
            sql.SQL("select {}.vector_dims('[1]'::{}.vector)").format(
                sql.Identifier(row["nspname"]), sql.Identifier(row["nspname"])
            )
        )


def applied_versions(conn: Connection) -> set[str]:
    row = conn.execute(
        "select to_regclass('supabase_migrations.schema_migrations') is not null as yes"
    ).fetchone()
    if not (row and row["yes"]):
        return set()
    rows = conn.execute("select version from supabase_migrations.schema_migrations").fetchall()
    return {r["version"] for r in rows}


def pending(conn: Connection, directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    done = applied_versions(conn)
    return [m for m in migrations(directory) if m.version not in done]


def apply_shim(conn: Connection) -> None:
    """The local Supabase shim: the API roles, then `auth` and `extensions`."""
    conn.execute(ROLES.read_text(encoding="utf-8"))
    conn.execute(SHIM.read_text(encoding="utf-8"))


def migrate(conn: Connection, directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Apply what is pending, all in one transaction (all or nothing). Returns what was applied."""
    applied: list[Migration] = []
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", [LOCK_ID])
        if not is_supabase(conn):
            apply_shim(conn)
        conn.execute(
            """
            create schema if not exists supabase_migrations;
            create table if not exists supabase_migrations.schema_migrations (
              version text primary key,
              statements text[],
              name text
            );
            """
        )
        todo = pending(conn, directory)
        for migration in todo:
            try:
                with conn.transaction():
                    load_extension_libraries(conn)
                    conn.execute(migration.sql)
                    conn.execute(
                        "insert into supabase_migrations.schema_migrations"
                        " (version, statements, name) values (%s, %s, %s)",
                        [migration.version, [migration.sql], migration.name],
                    )
            except psycopg.Error as exc:
                raise KnitterError(
                    f"migration {migration.path.name} failed: {exc.diag.message_primary or exc}"
                ) from exc
            applied.append(migration)
    return applied
