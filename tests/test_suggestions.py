"""Search history and suggestions: recorded by POST /v1/search as the user, private to
them both ways, ranked prefix first then by trigram similarity, deduplicated, clearable."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from api.accounts.users import workspace_id
from api.db.session import Caller, Connection, transaction_as
from api.http.app import create_app
from api.importers.model import Conversation, Message
from api.pipeline.ingest import write_conversation
from api.search import history
from tests.test_api import auth, make_settings


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(db_url))) as c:
        yield c


def add_source(conn: Connection, caller: Caller, title: str) -> None:
    conversation = Conversation(
        kind="text",
        platform="notes",
        title=title,
        messages=[Message(role="document", text=f"Notes about {title}.")],
    )
    write_conversation(conn, caller, workspace_id(conn, caller), conversation)


def texts(rows: list[dict[str, Any]]) -> list[str]:
    return [r["suggestion"] for r in rows]


def test_history_is_private_both_ways(conn: Connection, make_user: Callable[[], Caller]) -> None:
    alice, bob = make_user(), make_user()
    history.record(conn, alice, "marmalade recipe", None)
    history.record(conn, bob, "tangerine tart", None)
    assert [r["query"] for r in history.recent(conn, alice)] == ["marmalade recipe"]
    assert [r["query"] for r in history.recent(conn, bob)] == ["tangerine tart"]
    assert texts(history.suggestions(conn, bob, "marm")) == []
    assert texts(history.suggestions(conn, alice, "tang")) == []
    # Nobody writes into another's history, or deletes from it: a query recorded under
    # someone else's id is recorded as the caller's own (authorship comes from auth.uid()).
    with transaction_as(conn, bob):
        planted = conn.execute(
            "insert into public.search_history (user_id, query) values (%s, 'planted')"
            " returning user_id",
            [alice.user_id],
        ).fetchone()
    assert planted == {"user_id": bob.user_id}
    with transaction_as(conn, bob):
        gone = conn.execute(
            "delete from public.search_history where user_id = %s", [alice.user_id]
        ).rowcount
    assert gone == 0
    assert history.clear(conn, bob) == 2
    assert [r["query"] for r in history.recent(conn, alice)] == ["marmalade recipe"]
    # The anonymous role reads nothing at all.
    with pytest.raises(psycopg.errors.InsufficientPrivilege), transaction_as(conn, Caller.anon()):
        conn.execute("select * from public.search_history")


def test_a_workspace_the_user_cannot_read_is_not_recorded(
    conn: Connection, make_user: Callable[[], Caller]
) -> None:
    alice, bob = make_user(), make_user()
    theirs, mine = workspace_id(conn, alice), workspace_id(conn, bob)
    history.record(conn, bob, "peek", theirs)
    history.record(conn, bob, "mine", mine)
    by_query = {r["query"]: r["workspace_id"] for r in history.recent(conn, bob)}
    assert by_query == {"peek": None, "mine": mine}
    with pytest.raises(psycopg.errors.InsufficientPrivilege), transaction_as(conn, bob):
        conn.execute(
            "insert into public.search_history (user_id, query, workspace_id)"
            " values (auth.uid(), 'x', %s)",
            [theirs],
        )


def test_suggestions_rank_prefix_then_word_start_then_similarity(
    conn: Connection, make_user: Callable[[], Caller]
) -> None:
    me, other = make_user(), make_user()
    add_source(conn, me, "Sourdough starter troubleshooting")
    add_source(conn, me, "My sourdough schedule")
    add_source(conn, me, "Bicycle derailleur")
    add_source(conn, me, "Sourdough discard crackers")
    add_source(conn, other, "Sourdough secrets of someone else")
    history.record(conn, me, "sourdough hydration", None)
    history.record(conn, me, "sourdough hydration", None)  # deduplicated
    history.record(conn, me, "Sourdough Starter Troubleshooting", None)  # case dup
    history.record(conn, me, "best sourdough flour", None)

    found = history.suggestions(conn, me, "sourd", 8)
    names = texts(found)
    # Prefix matches first (past queries winning ties and duplicates), then word starts,
    # whatever their kind; another user's titles never.
    assert set(names[:2]) == {"sourdough hydration", "Sourdough Starter Troubleshooting"}
    assert names[2:] == [
        "Sourdough discard crackers",
        "best sourdough flour",
        "My sourdough schedule",
    ]
    assert [r["kind"] for r in found] == ["history", "history", "source", "history", "source"]
    assert found[0]["score"] >= found[-1]["score"]
    # A typo still finds it, by trigram similarity; a prefix that matches nothing, nothing.
    assert "Bicycle derailleur" in texts(history.suggestions(conn, me, "derailer"))
    assert texts(history.suggestions(conn, me, "zzqx")) == []
    # max_rows is honoured; LIKE wildcards in the prefix are taken literally.
    assert len(history.suggestions(conn, me, "sourd", 1)) == 1
    assert texts(history.suggestions(conn, me, "%")) == []
    # An empty prefix gives recent past queries only, never titles.
    empty = history.suggestions(conn, me, "")
    assert {r["kind"] for r in empty} == {"history"} and len(empty) == 3
    assert empty[0]["suggestion"] == "best sourdough flour"  # the most recent


def test_search_records_history_and_the_api_serves_suggestions(
    client: TestClient, make_user: Callable[[], Caller]
) -> None:
    me, other = make_user(), make_user()
    for query in ("kombucha scoby", "  kombucha scoby  ", "derailleur"):
        body = {"query": query, "keyword_only": True}
        assert client.post("/v1/search", json=body, headers=auth(me)).status_code == 200
    history = client.get("/v1/history", headers=auth(me)).json()["entries"]
    assert [e["query"] for e in history] == ["derailleur", "kombucha scoby", "kombucha scoby"]
    assert client.get("/v1/history", headers=auth(other)).json()["entries"] == []

    got = client.get("/v1/suggestions", params={"prefix": "komb"}, headers=auth(me)).json()
    assert got["suggestions"] == [
        {"suggestion": "kombucha scoby", "kind": "history", "score": got["suggestions"][0]["score"]}
    ]
    theirs = client.get("/v1/suggestions", params={"prefix": "komb"}, headers=auth(other))
    assert theirs.json()["suggestions"] == []
    assert client.get("/v1/suggestions", params={"prefix": "x"}).status_code == 401

    cleared = client.delete("/v1/history", headers=auth(me))
    assert cleared.status_code == 200 and cleared.json() == {"deleted": 3}
    assert client.get("/v1/history", headers=auth(me)).json()["entries"] == []
    after = client.get("/v1/suggestions", params={"prefix": "komb"}, headers=auth(me))
    assert after.json()["suggestions"] == []
