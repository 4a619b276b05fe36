"""POST /v1/ask when the chosen model cannot be reached: the extractive answer from the
same passages, with a notice that says why; and the extractive answer cites the answers in
a conversation before the person's own question, and says a sentence found in several
passages once. OpenAI is replayed with respx."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import respx
from fastapi.testclient import TestClient

from api.answers import answering
from api.answers.answering import CitedPassage
from api.db.session import Caller
from api.embeddings.registry import EmbeddingModel
from api.http.app import create_app
from tests.test_ask import (
    ACETONE,
    OPENAI_KEY,
    OPENAI_URL,
    acetone_citation,
    ask,
    baker,
    client,
    settings_for,
    sse,
)

__all__ = ["baker", "client", "settings_for"]  # fixtures


def test_an_unreachable_model_falls_back_to_the_extractive_answer(
    settings_for: Callable[..., Any], baker: Caller
) -> None:
    with (
        TestClient(create_app(settings_for(openai_api_key=OPENAI_KEY))) as c,
        respx.mock(assert_all_mocked=True) as mock,
    ):
        mock.post(OPENAI_URL).mock(side_effect=httpx.ConnectError("no route to host"))
        as_json = ask(c, baker, "application/json")
        streamed = ask(c, baker, "text/event-stream")
    assert as_json.status_code == 200, as_json.text
    body = as_json.json()
    assert body["extractive"] is True and body["provider"] is None
    notice = body["answer"].split("\n\n", 1)[0]
    assert notice.startswith("OpenAI could not answer (cannot reach OpenAI")
    assert "no language model was used" in notice and OPENAI_KEY not in as_json.text
    n = acetone_citation(body["citations"])
    assert f"- {ACETONE} [{n}]" in body["answer"]
    events = sse(streamed.text)
    assert [e for e, _ in events] == ["citations", "delta", "done"]
    assert events[1][1]["text"].startswith("OpenAI could not answer")
    assert events[2][1]["extractive"] is True


def test_the_extractive_answer_cites_answers_before_the_question(
    client: TestClient, baker: Caller
) -> None:
    # The question is nearly the person's own first message, which scores highest.
    response = ask(
        client, baker, "application/json", question="My sourdough starter smells like nail polish"
    )
    body = response.json()
    assert body["answer"].startswith(answering.EXTRACTIVE_NOTE)
    lines = body["answer"].split("\n\n", 1)[1].splitlines()
    roles = {c["n"]: c["role"] for c in body["citations"]}
    first_cited = int(lines[0].rsplit("[", 1)[1].rstrip("]"))
    assert roles[first_cited] == "assistant"
    assert "nail polish" not in lines[0]


def test_the_same_sentence_in_two_passages_is_one_line_citing_both(
    local_model: EmbeddingModel,
) -> None:
    """A branch or a pasted snippet repeats a passage's words: the answer said the same
    line twice ("- Plot the results [3]", "- Plot the results [6]")."""
    step = "Plot the simulated distances against the number of runs."
    texts = [
        f"Run the simulation first. {step}",
        "Store the average distances in a list for plotting later on.",
        f"Then compare the runs. {step}",
    ]
    passages = [
        CitedPassage(
            n=n,
            chunk_id=n,
            source_id=uuid.uuid4(),
            source_title="Average distance",
            platform="chatgpt",
            url=None,
            role="assistant",
            created_at=None,
            content=text,
        )
        for n, text in enumerate(texts, start=1)
    ]
    answer = answering.extractive("how do I plot the distances", passages, local_model)
    lines = answer.split("\n\n", 1)[1].splitlines()
    assert [line for line in lines if step in line] == [f"- {step} [1][3]"], lines
    assert len(lines) == len(set(lines)), lines
