"""The knitter command, as a person runs it: the real console script, a real database."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from api.cli import _print_report, cli
from api.db.migrate import migrations
from api.pipeline.ingest import ImportReport, ItemReport
from tests.conftest import FIXTURES, start_dev

EXPORT = FIXTURES / "chatgpt" / "conversations.json"


def knitter(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
        check=False,
    )


@pytest.mark.slow
def test_import_then_search_on_the_embedded_stack(tmp_path: Path) -> None:
    """From an export file to results, with nothing but --home: database, migrations,
    local user, passages, embeddings, hybrid search."""
    home = str(tmp_path / "home")
    notes = tmp_path / "notes.md"
    notes.write_text("# Packing list\n\nBring the headlamp and spare batteries.")
    done = knitter("--home", home, "import", str(EXPORT), str(notes), "--user", "me@example.com")
    assert done.returncode == 0, done.stderr
    # The counts there are, in all; no seconds of an inner phase (the embedding follows).
    assert re.search(r"^in all: 4 added, 1 skipped; \d+ passages$", done.stdout, re.M), done.stdout
    assert "0 updated" not in done.stdout and "0 failed" not in done.stdout
    # What was skipped is said, with why, under its file.
    assert "  skipped: " in done.stdout and ": no messages" in done.stdout, done.stdout
    # Not a terminal: each stage of the indexing on a line of its own, not redrawn with
    # carriage returns that run together in a log.
    assert "\r" not in done.stderr, done.stderr
    stages = [line for line in done.stderr.splitlines() if line.startswith("searchable")]
    assert stages and re.search(r"full quality: (\d+) / \1$", stages[-1]), stages
    assert len(stages) == len(set(stages))

    found = knitter(
        "--home",
        home,
        "search",
        "starter smells like acetone",
        "--user",
        "me@example.com",
        "--json",
        "--limit",
        "3",
    )
    assert found.returncode == 0, found.stderr
    results = json.loads(found.stdout)
    # At most 3; passages only vaguely like the query are below the relevance floor.
    assert 1 <= len(results) <= 3
    required = {
        "chunk_id",
        "source_id",
        "source_title",
        "platform",
        "role",
        "content",
        "snippet",
        "score",
    }
    assert required <= set(results[0])
    assert results[0]["source_title"] == "Sourdough starter troubleshooting"
    # Found by meaning: "headlight" is in no passage, "headlamp" is (cosine ~0.40, well
    # above the relevance floor).
    light = knitter(
        "--home",
        home,
        "search",
        "headlight",
        "--user",
        "me@example.com",
        "--json",
        "--platform",
        "notes",
    )
    assert json.loads(light.stdout)[0]["content"].endswith("spare batteries.")
    # The import put every conversation into a topic thread, titled by its words.
    listed = knitter("--home", home, "threads", "--user", "me@example.com", "--json")
    assert listed.returncode == 0, listed.stderr
    threads = json.loads(listed.stdout)
    assert sum(t["conversations"] for t in threads) == 4
    assert {t["title_source"] for t in threads} == {"terms"} and all(t["title"] for t in threads)
    narrow = knitter(
        "--home", home, "threads", "--user", "me@example.com", "--regroup", "--similarity", "0.95"
    )
    assert narrow.returncode == 0, narrow.stderr
    assert len(narrow.stdout.strip().splitlines()) == 4  # one thread per conversation
    misused = knitter("--home", home, "threads", "--user", "me@example.com", "--similarity", "0.5")
    assert misused.returncode == 2 and "--similarity needs --regroup" in misused.stderr
    # The command stopped the server it started.
    assert not (tmp_path / "home" / "pgdata" / "postmaster.pid").exists()


def test_keyword_search_through_the_console_script(tmp_path: Path, db_url: str) -> None:
    env = {"DATABASE_URL": db_url}
    done = knitter("import", str(EXPORT), "--user", "cli@example.com", "--no-embed", env=env)
    assert done.returncode == 0, done.stderr
    found = knitter("search", "derailleur", "--user", "cli@example.com", "--keyword-only", env=env)
    assert found.returncode == 0, found.stderr
    assert "1. Bicycle gears" in found.stdout
    assert "derailleur" in found.stdout


def test_bad_input_is_one_clear_line_and_a_non_zero_exit(tmp_path: Path, db_url: str) -> None:
    broken = tmp_path / "conversations.json"
    broken.write_text('[{"mapping": ')
    runner = CliRunner()
    result = runner.invoke(
        cli, ["--database-url", db_url, "import", str(broken), "--user", "bad@example.com"]
    )
    assert result.exit_code == 1
    assert "0 added" in result.output and "1 failed" in result.output
    assert "not valid JSON" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)

    nobody = runner.invoke(
        cli, ["--database-url", db_url, "search", "x", "--user", "nobody@example.com"]
    )
    assert nobody.exit_code == 1
    assert nobody.output.strip() == "Error: no user with email nobody@example.com"

    unreachable = runner.invoke(
        cli, ["--database-url", "postgresql://postgres@127.0.0.1:1/x", "migrate"]
    )
    assert unreachable.exit_code == 1
    assert unreachable.output.startswith("Error: cannot connect to the database")
    assert "Traceback" not in unreachable.output


def test_a_bad_setting_is_named_in_one_line_without_its_value(tmp_path: Path) -> None:
    """A setting from the environment is input too: the CLI and the API server say which
    one is wrong, never echo it (it may be a secret) and print no traceback."""
    env = {"RATE_LIMIT": "banana", "MAX_REQUEST_BYTES": "hunter2", "KNITTER_HOME": str(tmp_path)}
    cli_run = knitter("models", env=env)
    server = subprocess.run(
        [sys.executable, "-c", "import api.main; api.main.app"],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=60,
        check=False,
    )
    for run in (cli_run, server):
        assert run.returncode == 1, run.stderr
        assert "RATE_LIMIT: Value error, not a rate limit such as '60/minute'" in run.stderr
        assert "MAX_REQUEST_BYTES: Input should be a valid integer" in run.stderr
        assert "banana" not in run.stderr and "hunter2" not in run.stderr
        assert "Traceback" not in run.stderr
        assert len(run.stderr.strip().splitlines()) == 1, run.stderr


def test_migrate_applies_then_reports_an_up_to_date_database(
    new_database: Callable[[], str],
) -> None:
    url = new_database()
    runner = CliRunner()
    searching = runner.invoke(cli, ["--database-url", url, "search", "x", "--user", "a@b.c"])
    assert searching.exit_code == 1 and "run `knitter migrate`" in searching.output
    first = runner.invoke(cli, ["--database-url", url, "migrate"])
    assert first.exit_code == 0, first.output
    applied = [line.removeprefix("applied ") for line in first.output.splitlines()]
    assert applied == [m.path.name for m in migrations()]
    again = runner.invoke(cli, ["--database-url", url, "migrate"])
    assert again.exit_code == 0
    assert again.output.strip() == "the database is up to date"


def test_dev_serves_one_origin_until_interrupted(tmp_path: Path) -> None:
    """`knitter dev`: database, gateway and API on one local origin; Ctrl-C stops it all."""
    import httpx

    home = tmp_path / "home"
    dev = start_dev(home)
    try:
        assert any(
            line.startswith("database: postgresql://postgres@127.0.0.1:") for line in dev.banner
        )
        health = httpx.get(f"{dev.origin}/health", timeout=5)
        assert health.status_code == 200 and health.json()["migrations"] == "current"
        signup = httpx.post(
            f"{dev.origin}/auth/v1/signup",
            json={"email": "dev@example.com", "password": "a-long-password"},
            headers={"apikey": dev.anon_key},
            timeout=30,
        )
        assert signup.status_code == 200, signup.text
        search = httpx.post(
            f"{dev.origin}/v1/search",
            json={"query": "anything", "keyword_only": True},
            headers={"Authorization": f"Bearer {signup.json()['access_token']}"},
            timeout=30,
        )
        assert search.status_code == 200 and search.json()["results"] == []
    finally:
        out = dev.stop()
    assert dev.process.returncode == 0, out
    assert "stopped" in out
    assert not (home / "pgdata" / "postmaster.pid").exists()


def test_ask_answers_extractively_without_a_key(db_url: str) -> None:
    """No OpenAI or Gemini key anywhere: the answer is the passages' best sentences, each
    cited, and says that no model was used."""
    env = {"DATABASE_URL": db_url, "OPENAI_API_KEY": "", "GEMINI_API_KEY": ""}
    done = knitter("import", str(EXPORT), "--user", "ask@example.com", env=env)
    assert done.returncode == 0, done.stderr
    asked = knitter(
        "ask",
        "why does my derailleur skip under load?",
        "--user",
        "ask@example.com",
        "--json",
        env=env,
    )
    assert asked.returncode == 0, asked.stderr
    body = json.loads(asked.stdout)
    assert body["extractive"] is True and body["provider"] is None
    assert body["answer"].startswith("No language model was used")
    cited = [c for c in body["citations"] if c["n"] in body["cited"]]
    assert cited and cited[0]["source_title"] == "Bicycle gears"
    assert "chain" in body["answer"]
    # As text: the answer, then the passages it cites and no others, in its order.
    text = knitter(
        "ask", "why does my derailleur skip under load?", "--user", "ask@example.com", env=env
    )
    assert text.returncode == 0, text.stderr
    listed = re.findall(r"^\[(\d+)\] ", text.stdout, re.MULTILINE)
    assert listed == [str(n) for n in body["cited"]]


def test_the_import_report_writes_numbers_as_the_progress_line_does(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """'18,230 passages' beside 'searchable by meaning: 18,230 / 18,230', and one side file
    is not '1 side files'."""
    item = ItemReport("export.zip", ["ChatGPT export"], added=1412, messages=9120)
    item.left_out.update(images=1, plumbing=1310)
    item.side_files = 1
    _print_report(ImportReport(added=1412, passages=18230, items={item.item: item}))
    assert capsys.readouterr().out.splitlines() == [
        "export.zip: ChatGPT export; 1,412 added; 9,120 messages kept;"
        " left out: 1,310 hidden tool and system messages, 1 image; ignored: 1 side file",
        "in all: 1,412 added; 18,230 passages",
    ]


def test_a_note_is_reported_as_added_not_as_messages_kept(db_url: str, tmp_path: Path) -> None:
    """A note is one "message" only to the data model: 'Markdown; 1 added', beside the
    export's '… messages kept'."""
    note = tmp_path / "trip.md"
    note.write_text("# Trip\n\nPack the tent and the stove.\n")
    env = {"DATABASE_URL": db_url, "OPENAI_API_KEY": "", "GEMINI_API_KEY": ""}
    done = knitter(
        "import", str(note), str(EXPORT), "--user", "notes@example.com", "--no-embed", env=env
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert f"{note}: Markdown; 1 added" in lines
    assert any(
        line.startswith(f"{EXPORT}: ChatGPT export;") and "messages kept" in line for line in lines
    )
