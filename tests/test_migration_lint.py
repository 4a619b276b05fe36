"""squawk, the PostgreSQL migration linter (PyPI `squawk-cli`), on every file in
supabase/migrations/ with the repository's .squawk.toml: each migration is clean, the
linter does catch the dangerous patterns, and every rule the config excludes says why."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any, cast

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / ".squawk.toml"
MIGRATIONS = sorted((ROOT / "supabase" / "migrations").glob("*.sql"))
# squawk-cli installs the binary next to the interpreter; the venv may not be on PATH.
SQUAWK = shutil.which("squawk", path=str(Path(sys.executable).parent)) or shutil.which("squawk")
pytestmark = pytest.mark.skipif(
    SQUAWK is None, reason="squawk is not installed (pip install squawk-cli; in the dev extra)"
)


def lint(path: Path) -> list[dict[str, Any]]:
    assert SQUAWK is not None
    result = subprocess.run(
        [SQUAWK, "--config", str(CONFIG), "--reporter", "json", str(path)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode in (0, 1), result.stderr
    found = cast(list[dict[str, Any]], json.loads(result.stdout or "[]"))
    assert (result.returncode == 0) == (found == []), result.stdout
    return found


def test_there_are_migrations() -> None:
    assert len(MIGRATIONS) >= 9


@pytest.mark.parametrize("migration", MIGRATIONS, ids=lambda p: p.name)
def test_migration_passes_squawk(migration: Path) -> None:
    findings = [
        f"{f['file']}:{f['line'] + 1}: {f['rule_name']}: {f['message']}" for f in lint(migration)
    ]
    assert findings == []


BAD = {
    "adding-required-field": "alter table public.sources add column owner_note text not null;",
    "changing-column-type": "alter table public.chunks alter column author type varchar(50);",
    "constraint-missing-not-valid": (
        "alter table public.chunks add constraint short check (token_count < 9000);"
    ),
    "require-concurrent-index-creation": "create index chunks_by_author on public.chunks (author);",
    "prefer-timestamp-tz": "alter table public.sources add column seen timestamp;",
    "ban-drop-column": "alter table public.sources drop column summary;",
}


@pytest.mark.parametrize("rule", sorted(BAD))
def test_the_linter_catches_dangerous_migrations(rule: str, tmp_path: Path) -> None:
    migration = tmp_path / "20990101000000_bad.sql"
    migration.write_text(BAD[rule] + "\n")
    assert rule in {f["rule_name"] for f in lint(migration)}


def test_new_tables_need_no_concurrently(tmp_path: Path) -> None:
    """What assume_in_transaction buys: an index on a table created in the same migration
    (new, empty, in one transaction) is fine; on an existing table it is not."""
    migration = tmp_path / "20990101000000_new_table.sql"
    migration.write_text(
        "create table public.notes (id uuid primary key, body text not null);\n"
        "create index notes_body_idx on public.notes (body);\n"
    )
    assert lint(migration) == []


def test_every_excluded_rule_says_why() -> None:
    config = tomllib.loads(CONFIG.read_text())
    assert config["pg_version"] == "15.0"
    assert config["assume_in_transaction"] is True
    lines = CONFIG.read_text().splitlines()
    for rule in config["excluded_rules"]:
        (index,) = [i for i, line in enumerate(lines) if line.strip() == f'"{rule}",']
        comment = []
        for line in reversed(lines[:index]):
            if not line.strip().startswith("#"):
                break
            comment.append(line)
        assert len(comment) >= 2, f"{rule} is excluded without a reason"
