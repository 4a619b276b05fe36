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
