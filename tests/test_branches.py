"""Branches kept: every version of a message the person could page through in ChatGPT
(edits, regenerations and what followed them) and in Claude is stored as an alternative of
the current-branch message it stands in for; search, answers, summaries, packs, threads
and MCP read the current branch unless asked for alternatives."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.accounts.access_tokens import Principal
from api.accounts.users import caller_for, workspace_id
from api.answers import micro_threads, summaries
from api.config import Settings
from api.db.session import Caller, Connection, transaction_as
from api.errors import NotFoundError
from api.http.app import create_app
from api.importers import claude
from api.importers.chatgpt import parse_export
from api.importers.model import Conversation, Skipped, branch_to
from api.mcp import tools
from api.pipeline.ingest import import_paths, passages_of
from api.search.hybrid import SearchRequest, search
from tests.conftest import FIXTURES, SAMPLES
from tests.test_api import auth, make_settings

EXPORT = FIXTURES / "chatgpt" / "conversations.json"
TREE_SAMPLE = SAMPLES / "chatgpt" / "librechat-chatgpt-tree-branches.json"


def chatgpt(path: Path) -> list[Conversation]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return [c for c in parse_export(data) if isinstance(c, Conversation)]


def every_message(conversation: Conversation) -> list[tuple[int, Any]]:
    return list(enumerate([*conversation.messages, *conversation.alternatives]))


# --- the importers ------------------------------------------------------------------


@pytest.mark.skipif(not SAMPLES.exists(), reason="../shared/samples is not present")
def test_a_real_export_with_an_edit_and_a_regeneration_keeps_both() -> None:
    """librechat's chatgpt-tree.json: the first reply's follow-up was edited ("so cool bro"
    -> "hi again") and the joke regenerated; current_node is on the second joke."""
    (tree,) = chatgpt(TREE_SAMPLE)
    assert [m.text[:14] for m in tree.messages] == [
        "hi there",
        "Hello! How can",
        "hi again",
        "Hey! Welcome b",
        "tell me a joke",
        "Sure, here's o",
    ]
    assert [m.metadata.get("version") for m in tree.messages] == [None, None, 2, None, None, 2]
    edit = [m for m in tree.alternatives if m.metadata["alternative_of"] == 2]
    # The edited-away prompt with the whole sub-conversation below it, version 1 of 2.
    assert [m.text[:14] for m in edit] == [
        "so cool bro",
        "Thanks! What b",
        "tell me a stor",
        "Sure! Here's a",
    ]
    assert (edit[0].metadata["version"], edit[0].metadata["versions"]) == (1, 2)
    assert len({m.metadata["branch"] for m in edit}) == 1
    assert all("version" not in m.metadata for m in edit[1:])
    (regenerated,) = [m for m in tree.alternatives if m.metadata["alternative_of"] == 5]
    assert regenerated.role == "assistant" and regenerated.metadata["version"] == 1
    assert tree.metadata.get("left_out") is None or "branches" not in tree.metadata["left_out"]


def test_the_fixture_keeps_the_old_answer_and_the_abandoned_edit() -> None:
    sourdough = chatgpt(EXPORT)[0]
    alternatives = {m.text: m.metadata for m in sourdough.alternatives}
    old = alternatives["OLD ANSWER: throw it away and start over."]
    assert sourdough.messages[old["alternative_of"]].text.startswith("Not dead, just hungry")
    edit = alternatives["ABANDONED EDIT: what flour?"]
    assert sourdough.messages[edit["alternative_of"]].text.startswith("How long until")
    assert alternatives["ABANDONED ANSWER about flour."]["branch"] == edit["branch"]
    # Numbered after the current branch: the unique key (source, message, chunk) holds.
    indexes = [p.message_index for p in passages_of(sourdough)]
    assert max(indexes[: len(sourdough.messages)]) < min(
        p.message_index for p in passages_of(sourdough) if "alternative_of" in p.metadata
    )
    assert len({(p.message_index, p.chunk_index) for p in passages_of(sourdough)}) == len(indexes)


def test_a_conversation_without_branches_hashes_as_before() -> None:
    cafe = chatgpt(EXPORT)[1]
    assert cafe.alternatives == []
    bare = Conversation(cafe.kind, cafe.platform, cafe.title, cafe.messages)
    assert bare.content_hash() == cafe.content_hash()
    sourdough = chatgpt(EXPORT)[0]
    assert (
        Conversation(sourdough.kind, "chatgpt", "t", sourdough.messages).content_hash()
        != sourdough.content_hash()
    )


def claude_message(uuid_: str, parent: str, sender: str, text: str, minute: int) -> dict[str, Any]:
    return {
        "uuid": uuid_,
        "parent_message_uuid": parent,
        "sender": sender,
        "text": text,
        "content": [{"type": "text", "text": text}],
        "created_at": f"2025-06-01T10:{minute:02d}:00.000000Z",
        "updated_at": f"2025-06-01T10:{minute:02d}:00.000000Z",
        "attachments": [],
        "files": [],
    }


def claude_export() -> list[dict[str, Any]]:
    """The data export's shape (no current leaf named): a prompt edited once, an answer
    regenerated, listed mixed in one array as claude.ai writes them."""
    root = claude.ROOT_PARENT
    return [
        {
            "uuid": "c1a0de00-0000-4000-8000-000000000001",
            "name": "Kiln schedule",
            "created_at": "2025-06-01T10:00:00.000000Z",
            "updated_at": "2025-06-01T10:09:00.000000Z",
            "chat_messages": [
                claude_message("m1", root, "human", "What cone for stoneware glaze?", 0),
                claude_message("m2", "m1", "assistant", "FIRSTREPLY cone 6 usually.", 1),
                claude_message("m3", "m2", "human", "And the bisque firing?", 2),
                claude_message("m4", "m3", "assistant", "DISCARDEDBISQUE cone 08.", 3),
                claude_message("m5", "m2", "human", "EDITEDPROMPT and for porcelain?", 5),
                claude_message("m6", "m5", "assistant", "Porcelain wants cone 10.", 6),
                claude_message("m7", "m5", "assistant", "REGENERATED porcelain cone 6 too.", 8),
            ],
        }
    ]


def test_claude_branches_are_kept_with_the_newest_as_current() -> None:
    (conversation,) = [
        c for c in claude.parse_export(claude_export()) if isinstance(c, Conversation)
    ]
    assert [m.text.split()[0] for m in conversation.messages] == [
        "What",
        "FIRSTREPLY",
        "EDITEDPROMPT",
        "REGENERATED",
    ]
    by_text = {m.text.split()[0]: m.metadata for m in conversation.alternatives}
    assert set(by_text) == {"And", "DISCARDEDBISQUE", "Porcelain"}
    assert by_text["And"]["alternative_of"] == 2 and by_text["And"]["version"] == 1
    assert by_text["DISCARDEDBISQUE"]["branch"] == by_text["And"]["branch"]
    assert by_text["Porcelain"]["alternative_of"] == 3
    assert conversation.messages[3].metadata == {"version": 2, "versions": 2}


def test_claude_without_parent_links_stays_in_time_order() -> None:
    export = claude_export()
    for message in export[0]["chat_messages"]:
        del message["parent_message_uuid"]
    (conversation,) = [c for c in claude.parse_export(export) if isinstance(c, Conversation)]
    assert len(conversation.messages) == 7 and conversation.alternatives == []


# A tree: node i's parent is one of the nodes before it; each node says or hides something.
trees = st.integers(min_value=1, max_value=30).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(min_value=0, max_value=10**6), min_size=n, max_size=n),
        st.lists(
            st.sampled_from(["user", "assistant", "hidden", "reasoning"]), min_size=n, max_size=n
        ),
        st.one_of(st.none(), st.integers(min_value=0, max_value=n)),
    )
)


def mapping_of(parents: list[int], kinds: list[str]) -> dict[str, Any]:
    mapping: dict[str, Any] = {
        "root": {"id": "root", "message": None, "parent": None, "children": []}
    }
    for i, (pick, kind) in enumerate(zip(parents, kinds, strict=True)):
        parent = "root" if i == 0 else (["root"] + [f"n{j}" for j in range(i)])[pick % (i + 1)]
        content: dict[str, Any] = {"content_type": "text", "parts": [f"word{i} text"]}
        metadata: dict[str, Any] = {}
        role = kind
        if kind == "hidden":
            role, metadata = "system", {"is_visually_hidden_from_conversation": True}
        elif kind == "reasoning":
            role, content = (
                "assistant",
                {"content_type": "thoughts", "thoughts": [{"content": "x"}]},
            )
        mapping[f"n{i}"] = {
            "id": f"n{i}",
            "parent": parent,
            "children": [],
            "message": {
                "id": f"n{i}",
                "author": {"role": role},
                "content": content,
                "metadata": metadata,
                "create_time": 1_700_000_000 + i,
                "recipient": "all",
            },
        }
        mapping[parent]["children"].append(f"n{i}")
    return mapping


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trees)
def test_branchy_mappings_keep_every_message_once(
    tree: tuple[list[int], list[str], int | None],
) -> None:
    parents, kinds, current = tree
    mapping = mapping_of(parents, kinds)
    current_node = None if current is None or current >= len(parents) else f"n{current}"
    item = {"id": "conv-1", "title": "t", "mapping": mapping, "current_node": current_node}
    results = list(parse_export([item]))
    # What lies below current_node (it is a leaf in real exports) is no version anyone
    # could page to.
    below = set()
    stack = list(mapping[current_node]["children"]) if current_node else []
    while stack:
        below.add(stack[-1])
        stack.extend(mapping[stack.pop()]["children"])
    spoken = {
        f"word{i} text"
        for i, k in enumerate(kinds)
        if k in ("user", "assistant") and f"n{i}" not in below
    }
    if not spoken:
        return
    conversations = [c for c in results if isinstance(c, Conversation)]
    if not conversations:  # the current branch says nothing: nothing to import
        assert [type(r) for r in results] == [Skipped]
        return
    (conversation,) = conversations
    everything = every_message(conversation)
    texts = [m.text for _, m in everything]
    # Every message the person could reach is kept exactly once.
    assert sorted(texts) == sorted(spoken)
    # The current branch is the one from the root to current_node, as before.
    if current_node is not None:
        branch = branch_to(current_node, mapping, "parent")
        expected = [
            n["message"]["content"]["parts"][0]
            for n in branch
            if n["message"]
            and n["message"]["author"]["role"] in ("user", "assistant")
            and n["message"]["content"]["content_type"] == "text"
        ]
        assert [m.text for m in conversation.messages] == expected
    current_count = len(conversation.messages)
    branches: dict[int, set[int]] = {}
    anchors: Counter[int] = Counter()
    for index, message in everything[current_count:]:
        anchor = message.metadata["alternative_of"]
        if message.metadata["branch"] not in branches:
            anchors[anchor] += 1  # a version starts here
        # Versions of an earlier message (the current branch's or an earlier version's).
        assert 0 <= anchor < index
        branches.setdefault(message.metadata["branch"], set()).add(anchor)
    assert all(len(a) == 1 for a in branches.values())  # one anchor per branch
    # At each place with versions: "version k of n", each k once, n the count.
    by_index = dict(everything)
    for anchor, count in anchors.items():
        starts: dict[int, dict[str, Any]] = {}  # each version's first message
        for _, m in everything[current_count:]:
            if m.metadata["alternative_of"] == anchor:
                starts.setdefault(m.metadata["branch"], m.metadata)
        firsts = list(starts.values())
        numbers = [by_index[anchor].metadata.get("version"), *(f["version"] for f in firsts)]
        assert sorted(numbers) == list(range(1, count + 2))
        assert {f["versions"] for f in firsts} == {count + 1}
        assert by_index[anchor].metadata["versions"] == count + 1
    # The same conversation parses to the same content (re-import stays idempotent).
    (again,) = [c for c in parse_export([item]) if isinstance(c, Conversation)]
    assert again.content_hash() == conversation.content_hash()
    assert passages_of(again) == passages_of(conversation)


# --- on the real database -----------------------------------------------------------


@pytest.fixture
def imported(conn: Connection, make_user: Callable[[], Caller]) -> Iterator[tuple[Caller, Any]]:
    caller = make_user()
    ws = workspace_id(conn, caller)
    report = import_paths(conn, caller, ws, [EXPORT])
    yield caller, (ws, report)


def keyword(conn: Connection, caller: Caller, query: str, **filters: Any) -> list[str]:
    rows = search(conn, caller, SearchRequest(query, 10, filters), None)
    return [r["content"] for r in rows]


def test_alternatives_are_found_only_when_asked_for(
    conn: Connection, imported: tuple[Caller, Any]
) -> None:
    caller, (ws, report) = imported
    (item,) = report.items.values()
    # Sourdough: an old answer, an abandoned edit and its answer; gears: a first try.
    assert item.alternatives == 3 + 1 and item.messages == 4 + 4 + 2
    assert report.passages == item.messages + item.alternatives  # one passage each here

    default = keyword(conn, caller, "throw it away and start over")
    assert not any("OLD ANSWER" in text for text in default)
    found = keyword(conn, caller, "throw it away and start over", include_alternatives=True)
    assert any("OLD ANSWER" in text for text in found)
    # The current branch is found either way.
    assert any("Not dead" in t for t in keyword(conn, caller, "acetone yeast hungry"))
    off = keyword(conn, caller, "throw it away", include_alternatives=False)
    assert not any("OLD ANSWER" in text for text in off)

    with pytest.raises(psycopg.errors.InvalidParameterValue, match="include_alternatives"):
        keyword(conn, caller, "flour", include_alternatives="yes")
    conn.rollback()

    again = import_paths(conn, caller, ws, [EXPORT])
    assert (again.added, again.updated, again.passages) == (0, 0, 0)


def test_readers_use_the_current_branch(conn: Connection, imported: tuple[Caller, Any]) -> None:
    caller, _ = imported
    with transaction_as(conn, caller):
        source = conn.execute(
            "select id from public.sources where title = 'Sourdough starter troubleshooting'"
        ).fetchone()
        assert source is not None
        shown = conn.execute(
            "select content from public.source_passages(%s)", [source["id"]]
        ).fetchall()
        others = conn.execute(
            "select chunk_id, content, metadata from public.source_alternatives(%s)",
            [source["id"]],
        ).fetchall()
    assert len(shown) == 4 and not any("OLD ANSWER" in r["content"] for r in shown)
    assert [r["content"].split(":")[0] for r in others] == [
        "OLD ANSWER",
        "ABANDONED EDIT",
        "ABANDONED ANSWER about flour.",
    ]
    # Summaries and packs read the conversation as last seen.
    text = summaries.source_text(conn, caller, source["id"])
    assert text is not None and "Not dead" in text and "OLD ANSWER" not in text
    # A thread on an alternative passage reads its neighbours on its own branch.
    edit = next(r for r in others if r["content"].startswith("ABANDONED EDIT"))
    context = micro_threads.context(conn, caller, edit["chunk_id"])
    assert context is not None
    assert [p.content.split(":")[0].split(" about")[0] for p in context] == [
        "ABANDONED EDIT",
        "ABANDONED ANSWER",
    ]
    current = conn.execute(
        "select id from public.chunks where source_id = %s and message_index = 0",
        [source["id"]],
    ).fetchone()
    conn.rollback()
    assert current is not None
    context = micro_threads.context(conn, caller, current["id"])
    assert context is not None and not any("ABANDONED" in p.content for p in context)
    assert not any("OLD ANSWER" in p.content for p in context)


def test_mcp_searches_and_reads_the_current_branch(
    conn: Connection, imported: tuple[Caller, Any]
) -> None:
    caller, _ = imported
    backend = tools.Backend(Settings(), lambda: nullcontext(conn))
    principal = Principal(caller, "read")

    def snippets(**kwargs: Any) -> str:
        found = tools.search_conversations(
            backend, principal, "throw it away and start over", keyword_only=True, **kwargs
        )
        return json.dumps(found["conversations"])

    assert "throw it away" not in snippets()
    assert "throw it away" in snippets(include_alternatives=True)
    with transaction_as(conn, caller):
        source = conn.execute(
            "select id from public.sources where title = 'Sourdough starter troubleshooting'"
        ).fetchone()
    assert source is not None
    read = tools.get_conversation(backend, principal, source["id"])
    assert read["total_passages"] == 4 and not read["more_after"]
    assert "OLD ANSWER" not in json.dumps(read)
    with transaction_as(conn, caller):
        old = conn.execute(
            "select chunk_id from public.source_alternatives(%s) limit 1", [source["id"]]
        ).fetchone()
    assert old is not None
    with pytest.raises(NotFoundError, match="another version of a message"):
        tools.get_conversation(backend, principal, source["id"], around_passage=old["chunk_id"])


@pytest.fixture
def api(db_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(db_url))) as c:
        yield c


def test_the_api_search_takes_include_alternatives_and_threads_ignore_them(
    api: TestClient, conn: Connection
) -> None:
    me = caller_for(conn, f"branches-{uuid.uuid4().hex[:10]}@example.com", create=True)
    files = [("files", (EXPORT.name, EXPORT.read_bytes(), "application/octet-stream"))]
    job = api.post("/v1/imports", files=files, headers=auth(me)).json()
    done = api.get(f"/v1/imports/{job['id']}", headers=auth(me)).json()
    assert done["status"] == "succeeded", done
    assert done["items"][0]["alternatives"] == 4

    def found(**filters: Any) -> list[str]:
        response = api.post(
            "/v1/search",
            json={
                "query": "throw it away and start over",
                "keyword_only": True,
                "filters": filters,
            },
            headers=auth(me),
        )
        assert response.status_code == 200, response.text
        return [r["content"] for r in response.json()["results"]]

    assert not any("OLD ANSWER" in c for c in found())
    assert any("OLD ANSWER" in c for c in found(include_alternatives=True))
    bad = api.post(
        "/v1/search",
        json={"query": "flour", "filters": {"include_alternatives": "maybe"}},
        headers=auth(me),
    )
    assert bad.status_code == 422

    # Answers cite the current branch only, unless asked to include other versions.
    def cited(**filters: Any) -> str:
        asked = api.post(
            "/v1/ask",
            json={
                "question": "should I throw my starter away?",
                "provider": "extractive",
                "keyword_only": True,
                "filters": filters,
            },
            headers=auth(me),
        )
        assert asked.status_code == 200, asked.text
        citations = asked.text.split("event: citations\ndata: ", 1)[1].split("\n", 1)[0]
        return citations

    assert "sourdough starter" in cited() and "OLD ANSWER" not in cited()
    assert "OLD ANSWER" in cited(include_alternatives=True)

    # A conversation's centroid (its topic thread) is made of its current branch.
    with transaction_as(conn, me):
        row = conn.execute(
            "select c.passages from public.sources s"
            " cross join lateral private.source_centroids(array[s.id]) c"
            " where s.title = 'Sourdough starter troubleshooting'"
        ).fetchone()
    assert row is not None and row["passages"] == 4
