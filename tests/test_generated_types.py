"""The web app's generated types are current: regenerated into a temporary folder from the
API's OpenAPI schema and a freshly migrated database, they equal the committed files."""

from __future__ import annotations

import difflib
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from api.db.migrate import migrate
from api.db.session import connect

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "generate_types.py"
COMMITTED = ROOT / "frontend" / "src" / "lib"
FILES = ("api.types.ts", "database.types.ts")


def migrated(new_database: Callable[[], str]) -> str:
    url = new_database()
    with connect(url) as conn:
        conn.autocommit = True
        migrate(conn)
    return url


def generate(out: Path, database_url: str) -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(out), "--database-url", database_url],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr


def stale(generated: Path) -> list[str]:
    """One message per committed file that differs from its regenerated twin."""
    problems = []
    for name in FILES:
        committed = COMMITTED / name
        fresh = (generated / name).read_text(encoding="utf-8")
        old = committed.read_text(encoding="utf-8") if committed.exists() else ""
        if fresh != old:
            diff = difflib.unified_diff(
                old.splitlines(),
                fresh.splitlines(),
                f"committed/{name}",
                f"generated/{name}",
                "",
                "",
                3,
                "",
            )
            shown = "\n".join(list(diff)[:40])
            problems.append(f"frontend/src/lib/{name} is stale: run `make types`\n{shown}")
    return problems


def test_committed_types_are_current(new_database: Callable[[], str], tmp_path: Path) -> None:
    generate(tmp_path, migrated(new_database))
    problems = stale(tmp_path)
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


def test_a_new_rpc_makes_the_committed_types_stale(
    new_database: Callable[[], str], tmp_path: Path
) -> None:
    url = migrated(new_database)
    with connect(url) as conn:
        conn.autocommit = True
        conn.execute(
            "create function public.zz_probe(label text, lim integer default null)"
            " returns table (n bigint) language sql stable set search_path = ''"
            " as $$ select 1::bigint $$"
        )
    generate(tmp_path, url)
    problems = stale(tmp_path)
    assert len(problems) == 1
    assert problems[0].startswith("frontend/src/lib/database.types.ts is stale: run `make types`")
    assert "+      zz_probe: {" in problems[0]
    generated = (tmp_path / "database.types.ts").read_text(encoding="utf-8")
    # Named arguments, the optional one taking null; a returned column may be null.
    assert "          label: string\n          lim?: number | null\n" in generated
    assert "          n: number | null\n        }[]\n" in generated


def test_tables_views_enums_and_overloads_take_the_supabase_shape(
    new_database: Callable[[], str], tmp_path: Path
) -> None:
    url = migrated(new_database)
    with connect(url) as conn:
        conn.autocommit = True
        conn.execute(
            """
            create type public.zz_mood as enum ('ok', 'meh');
            create type public.zz_pair as (a integer, b text);
            create table public.zz_items (
              id bigint generated always as identity primary key,
              name text not null,
              note text,
              mood public.zz_mood not null default 'ok',
              slug text generated always as (lower(name)) stored,
              parent bigint unique references public.zz_items (id)
            );
            create view public.zz_names as select id, name from public.zz_items;
            create function public.zz_twice(a integer) returns integer
              language sql immutable set search_path = '' as $$ select a * 2 $$;
            create function public.zz_twice(a text) returns text
              language sql immutable set search_path = '' as $$ select a || a $$;
            create function public.zz_all() returns setof public.zz_items
              language sql stable set search_path = '' as $$ select * from public.zz_items $$;
            create function public.zz_unnamed(integer) returns integer
              language sql immutable set search_path = '' as $$ select $1 $$;
            """
        )
    generate(tmp_path, url)
    out = (tmp_path / "database.types.ts").read_text(encoding="utf-8")
    table = out[out.index("      zz_items: {") : out.index("    Views: {")]
    # Row: every column as stored; Insert: what the database fills itself is optional or
    # never written; a unique foreign key is one-to-one.
    assert '          mood: Database["public"]["Enums"]["zz_mood"]\n' in table
    assert "          note: string | null\n" in table
    insert = table[table.index("Insert: {") : table.index("Update: {")]
    assert "id?: never" in insert and "slug?: never" in insert
    assert "name: string\n" in insert and "mood?: " in insert and "note?: string | null" in insert
    assert 'columns: ["parent"]\n            isOneToOne: true' in table
    assert 'referencedRelation: "zz_items"' in table
    # A view's columns may always be null; it is updatable, so it has Insert and Update.
    view = out[out.index("      zz_names: {") : out.index("    Functions: {")]
    assert "          id: number | null\n" in view and "Insert: {" in view
    # Overloads are a union; a setof table returns its rows; an unnamed argument is not
    # callable by name through PostgREST, so that function is left out.
    assert "zz_twice: {\n        Args: {\n          a: number\n" in out
    assert "} | {\n        Args: {\n          a: string\n" in out
    assert "zz_all: {\n        Args: never\n        Returns: {\n" in out
    assert "zz_unnamed" not in out
    assert '      zz_mood: "ok" | "meh"\n' in out
    assert "      zz_pair: {\n        a: number | null\n        b: string | null\n      }" in out
    assert 'zz_mood: ["ok", "meh"]' in out
