"""scripts/backup.sh and scripts/verify_backup.sh against the embedded PostgreSQL: a real
import (and embeddings, an encrypted key) is backed up, the file is named and compressed as
promised, restores into a scratch database with every recorded row count, and the restored
database still searches under row-level security; retention, upload and tampering."""

from __future__ import annotations

import gzip
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from api.accounts.users import caller_for, workspace_id
from api.db.migrate import apply_shim, migrate
from api.db.session import Caller, connect, transaction_as
from api.pipeline.ingest import import_paths
from api.search.hybrid import SearchRequest, search
from tests.conftest import FIXTURES

ROOT = Path(__file__).resolve().parents[1]
BACKUP = ROOT / "scripts" / "backup.sh"
VERIFY = ROOT / "scripts" / "verify_backup.sh"
EXPORT = FIXTURES / "chatgpt" / "conversations.json"
NAME = re.compile(r"^knitter_backup_\d{8}_\d{6}\.sql\.gz$")
PG15_BIN = Path("/usr/lib/postgresql/15/bin")


@dataclass(frozen=True)
class Source:
    url: str
    email: str
    counts: dict[str, int]


COUNTED = [
    "auth.users",
    "public.workspaces",
    "public.workspace_members",
    "public.sources",
    "public.chunks",
    "public.chunk_embeddings",
    "public.embedding_queue",
    "public.api_keys",
    "supabase_migrations.schema_migrations",
]


def counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {
            table: int(conn.execute(f"select count(*) from {table}").fetchone()[0])  # type: ignore[index]
            for table in COUNTED
        }


@pytest.fixture(scope="module")
def source(new_database: Callable[[], str]) -> Source:
    """A migrated database with a real import, some embeddings and a stored key."""
    url = new_database()
    email = f"backup-{uuid.uuid4().hex[:8]}@example.com"
    with connect(url) as conn:
        conn.autocommit = True
        migrate(conn)
        caller = caller_for(conn, email, create=True)
        ws = workspace_id(conn, caller)
        report = import_paths(conn, caller, ws, [EXPORT])
        assert report.added > 0 and report.passages > 0
        with transaction_as(conn, Caller.service()):
            # Embeddings for half the passages (vector values and the HNSW index restore).
            conn.execute(
                """
                with done as (
                  delete from public.embedding_queue
                  where chunk_id in (select id from public.chunks where id % 2 = 0)
                  returning chunk_id, model_id, workspace_id
                )
                insert into public.chunk_embeddings (chunk_id, model_id, workspace_id, embedding)
                select d.chunk_id, d.model_id, d.workspace_id,
                       -- Each model's own size (the passages are queued for the static
                       -- model too).
                       array_fill(0.5::real, array[m.dims])::extensions.vector
                from done d
                join public.embedding_models m on m.id = d.model_id
                """
            )
            conn.execute(
                "insert into public.api_keys"
                " (user_id, provider, ciphertext, nonce, key_version, last_four)"
                " values (%s, 'openai', %s, %s, 1, 'abcd')",
                [caller.user_id, b"\x00\x01ciphertext\xff", b"\x00" * 12],
            )
    found = counts(url)
    assert all(found[t] > 0 for t in COUNTED), found
    return Source(url, email, found)


def run(script: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(script), *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def backup(source: Source, directory: Path, **env: str) -> Path:
    result = run(BACKUP, str(directory), DATABASE_URL=source.url, **env)
    assert result.returncode == 0, result.stderr
    path = Path(result.stdout.strip().splitlines()[-1])
    assert path.parent == directory and path.is_file()
    return path


@pytest.fixture(scope="module")
def made(source: Source, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return backup(source, tmp_path_factory.mktemp("backups"))


def test_the_backup_is_a_named_gzipped_dump(made: Path, source: Source) -> None:
    assert NAME.match(made.name)
    assert made.stat().st_mode & 0o077 == 0  # password hashes and key ciphertext inside
    text = gzip.decompress(made.read_bytes()).decode()
    assert text.startswith("-- knitter backup: mode=local server_major=18")
    for expected in (
        "CREATE TABLE auth.users",
        "CREATE TABLE public.chunks",
        "CREATE FUNCTION private.workspace_ids_for",
        "CREATE POLICY",
        "CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA extensions",
        "COPY supabase_migrations.schema_migrations",
        "create role service_role nologin noinherit bypassrls",
    ):
        assert expected in text, expected
    recorded = dict(re.findall(r"^-- knitter-backup-rows: (\S+) (\d+)$", text, re.MULTILINE))
    assert {t: int(recorded[t]) for t in COUNTED} == source.counts
    assert text.rstrip().endswith("-- knitter-backup-complete")


def test_verify_restores_and_matches_the_counts(made: Path, source: Source) -> None:
    result = run(VERIFY, str(made), DATABASE_URL=source.url, VERIFY_AGAINST_SOURCE="1")
    assert result.returncode == 0, result.stderr
    assert re.search(r"OK: \d+ tables, \d+ rows restored as recorded", result.stdout)
    assert "MISMATCH" not in result.stderr
    # The scratch database is gone again.
    with psycopg.connect(source.url) as conn:
        left = conn.execute(
            "select count(*) from pg_database where datname like 'knitter_verify_%'"
        ).fetchone()
    assert left is not None and left[0] == 0


def test_the_restored_database_works(
    made: Path, source: Source, new_database: Callable[[], str]
) -> None:
    target = new_database()
    result = run(VERIFY, str(made), DATABASE_URL=source.url, VERIFY_DATABASE_URL=target)
    assert result.returncode == 0, result.stderr
    assert counts(target) == source.counts
    with connect(target) as conn:
        conn.autocommit = True
        assert migrate(conn) == []  # the migration history came back
        caller = caller_for(conn, source.email)  # the user exists: no create
        hits = search(conn, caller, SearchRequest(query="sourdough starter"))
        assert hits and "Sourdough" in hits[0]["source_title"]
        stranger = caller_for(conn, "stranger@example.com", create=True)
        assert search(conn, stranger, SearchRequest(query="sourdough starter")) == []
        index = conn.execute(
            "select count(*) as n from pg_indexes where indexname like 'chunk_embeddings_model_%'"
        ).fetchone()
        assert index is not None and index["n"] >= 1


def rewrite(path: Path, target: Path, change: Callable[[str], str]) -> Path:
    target.write_bytes(gzip.compress(change(gzip.decompress(path.read_bytes()).decode()).encode()))
    return target


def test_verify_fails_on_a_wrong_count(made: Path, source: Source, tmp_path: Path) -> None:
    n = source.counts["public.chunks"]
    bad = rewrite(
        made,
        tmp_path / made.name,
        lambda t: t.replace(
            f"-- knitter-backup-rows: public.chunks {n}\n",
            f"-- knitter-backup-rows: public.chunks {n + 1}\n",
        ),
    )
    assert bad.read_bytes() != made.read_bytes()
    result = run(VERIFY, str(bad), DATABASE_URL=source.url)
    assert result.returncode != 0
    assert "MISMATCH public.chunks" in result.stderr


def test_verify_fails_on_an_incomplete_backup(made: Path, source: Source, tmp_path: Path) -> None:
    cut = rewrite(made, tmp_path / made.name, lambda t: t[: len(t) // 2])
    result = run(VERIFY, str(cut), DATABASE_URL=source.url)
    assert result.returncode != 0
    assert "no completion marker" in result.stderr
    broken = tmp_path / "broken.sql.gz"
    broken.write_bytes(made.read_bytes()[:-100])
    assert run(VERIFY, str(broken), DATABASE_URL=source.url).returncode != 0


def test_verify_fails_when_the_restore_fails(made: Path, source: Source, tmp_path: Path) -> None:
    bad = rewrite(
        made,
        tmp_path / made.name,
        lambda t: t.replace("CREATE TABLE public.chunks", "CREATE TABLE public.chunks_oops", 1),
    )
    result = run(VERIFY, str(bad), DATABASE_URL=source.url)
    assert result.returncode != 0
    assert "the restore failed" in result.stderr


def test_retention_deletes_only_old_backups(source: Source, tmp_path: Path) -> None:
    old = tmp_path / "knitter_backup_20200101_000000.sql.gz"
    recent = tmp_path / "knitter_backup_20200301_000000.sql.gz"
    unrelated = tmp_path / "notes.sql.gz"
    for path, age in ((old, "31 days ago"), (recent, "29 days ago"), (unrelated, "90 days ago")):
        path.write_bytes(b"")
        subprocess.run(["touch", "-d", age, str(path)], check=True)
    made = backup(source, tmp_path)
    assert not old.exists()
    assert recent.exists() and unrelated.exists() and made.exists()
    # Configurable: with 7 days the 29-day-old one goes too; 0 keeps everything.
    backup(source, tmp_path, BACKUP_RETENTION_DAYS="0")
    assert recent.exists()
    backup(source, tmp_path, BACKUP_RETENTION_DAYS="7")
    assert not recent.exists() and unrelated.exists()
    assert len(list(tmp_path.glob("knitter_backup_*.sql.gz"))) >= 1


def test_upload_command(source: Source, tmp_path: Path) -> None:
    bucket = tmp_path / "bucket with space"
    bucket.mkdir()
    made = backup(source, tmp_path / "out", BACKUP_UPLOAD_CMD=f"cp {{file}} '{bucket}/'")
    assert (bucket / made.name).read_bytes() == made.read_bytes()
    failed = run(BACKUP, str(tmp_path / "out2"), DATABASE_URL=source.url, BACKUP_UPLOAD_CMD="false")
    assert failed.returncode != 0 and "upload failed" in failed.stderr
    assert len(list((tmp_path / "out2").glob("knitter_backup_*.sql.gz"))) == 1


def test_refuses_a_pg_dump_older_than_the_server(source: Source, tmp_path: Path) -> None:
    if not (PG15_BIN / "pg_dump").exists():
        pytest.skip("no PostgreSQL 15 client tools here to try")
    result = run(BACKUP, str(tmp_path), DATABASE_URL=source.url, PG_BIN=str(PG15_BIN))
    assert result.returncode != 0
    assert "no pg_dump of version 18 or newer" in result.stderr
    assert not list(tmp_path.glob("knitter_backup_*"))


def test_requires_a_database_url(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    result = subprocess.run(
        ["bash", str(BACKUP), str(tmp_path)], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0 and "DATABASE_URL is not set" in result.stderr


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
def test_scripts_pass_shellcheck() -> None:
    result = subprocess.run(
        ["shellcheck", "-x", str(BACKUP), str(VERIFY)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout


def test_a_supabase_project_backup_restores_into_a_project(
    source: Source, new_database: Callable[[], str], tmp_path: Path
) -> None:
    """Where `auth` is Supabase's (here: the shim without its marker), the backup holds
    auth.users' rows, knitter's schemas and its trigger on auth.users; it restores into a
    database that has Supabase's base (here: the shim and the vector extension)."""
    project = new_database()
    with connect(project) as conn:
        conn.autocommit = True
        migrate(conn)
        caller = caller_for(conn, "project@example.com", create=True)
        import_paths(conn, caller, workspace_id(conn, caller), [EXPORT])
        conn.execute("comment on schema auth is 'Supabase auth'")
    made = backup(Source(project, "project@example.com", {}), tmp_path)
    text = gzip.decompress(made.read_bytes()).decode()
    assert text.startswith("-- knitter backup: mode=supabase")
    assert "CREATE TABLE auth.users" not in text and "COPY auth.users" in text
    assert "CREATE TRIGGER on_auth_user_created_personal_workspace" in text

    # Not into a plain scratch database on the project's server: there is no auth there.
    refused = run(VERIFY, str(made), DATABASE_URL=project)
    assert refused.returncode != 0 and "VERIFY_DATABASE_URL" in refused.stderr

    target = new_database()
    with connect(target) as conn:
        conn.autocommit = True
        apply_shim(conn)
        conn.execute("create extension if not exists vector with schema extensions")
    result = run(VERIFY, str(made), DATABASE_URL=project, VERIFY_DATABASE_URL=target)
    assert result.returncode == 0, result.stderr
    assert counts(target) == counts(project)
    with connect(target) as conn:
        conn.autocommit = True
        hits = search(
            conn, caller_for(conn, "project@example.com"), SearchRequest(query="sourdough starter")
        )
        assert hits
        # The trigger came back: a new user gets a personal workspace.
        newcomer = caller_for(conn, "newcomer@example.com", create=True)
        assert workspace_id(conn, newcomer)
