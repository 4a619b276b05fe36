"""Answers to questions about one's own conversations: the best passages from hybrid
search, numbered, and an answer that cites them as [1], [2]… Written by a chat model
(OpenAI or Gemini, with the user's key or the server's) told to use only the passages;
without any key, the passages' sentences that best match the question (extractive)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from api.accounts.keyring import Keyring
from api.config import Settings
from api.db.session import Caller, Connection
from api.embeddings.cache import EmbeddingCache
from api.embeddings.registry import EmbeddingModel, get_model
from api.errors import KnitterError, ProviderError
from api.providers.chat import ChatModel
from api.providers.choice import key_for, pick_chat_model
from api.search.hybrid import SearchRequest, embed_query, search
from api.topics import terms

SYSTEM_PROMPT = (
    "You answer questions about the user's own saved AI conversations and notes, using only"
    " the numbered passages you are given. Cite the passage behind every statement with its"
    " number in square brackets, like [1] or [2][3]. If the passages do not contain the"
    " answer, say plainly that you cannot answer from their conversations; never fill gaps"
    " with outside knowledge. Answer in the language of the question, concisely."
)
NO_PASSAGES = "I found nothing in your conversations about this, so I cannot answer it."
EXTRACTIVE_NOTE = (
    "No language model was used (no OpenAI or Gemini key is available): these are the"
    " sentences of your passages that best match the question."
)
NOTHING_EXTRACTED = "None of the passages found seems to answer this."
# When the chosen model fails before answering: the reason, then the extractive answer.
FALLBACK_NOTE = (
    "{provider} could not answer ({reason}), so no language model was used: these are the"
    " sentences of your passages that best match the question."
)
# Each passage is cut to this many characters in the prompt, to bound its size.
MAX_PASSAGE_CHARS = 2000
EXTRACTIVE_SENTENCES = 3
_CITE = re.compile(r"\[(\d{1,3})\]")


class CitedPassage(BaseModel):
    """A search result as the answer cites it: number n is "[n]" in the answer. The API's
    citations are these (http.schemas.Citation)."""

    model_config = ConfigDict(frozen=True)

    n: int = Field(description='The number the answer cites as "[n]".')
    chunk_id: int
    source_id: UUID
    source_title: str
    platform: str
    url: str | None
    role: str
    created_at: datetime | None
    content: str

    @classmethod
    def from_rows(cls, rows: Sequence[dict[str, Any]]) -> list[CitedPassage]:
        return [cls.model_validate({**r, "n": i}) for i, r in enumerate(rows, start=1)]


def prompt(question: str, passages: Sequence[CitedPassage]) -> str:
    """The user message: the numbered passages, then the question."""
    blocks = []
    for p in passages:
        when = f", {p.created_at:%Y-%m-%d}" if p.created_at else ""
        text = p.content[:MAX_PASSAGE_CHARS]
        blocks.append(f"[{p.n}] {p.source_title or 'Untitled'} ({p.role}{when})\n{text}")
    return "Passages:\n\n" + "\n\n".join(blocks) + f"\n\nQuestion: {question}"


def cited(answer: str, passages: Sequence[CitedPassage]) -> list[int]:
    """The passage numbers the answer cites, in order of first citation."""
    known = {p.n for p in passages}
    seen: list[int] = []
    for found in _CITE.finditer(answer):
        n = int(found[1])
        if n in known and n not in seen:
            seen.append(n)
    return seen


def _cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = math.fsum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(math.fsum(x * x for x in a)) * math.sqrt(math.fsum(y * y for y in b))
    return dot / norm if norm else 0.0


def extractive(
    question: str,
    passages: Sequence[CitedPassage],
    model: EmbeddingModel,
    note: str = EXTRACTIVE_NOTE,
) -> str:
    """The sentences of the passages closest to the question, each with its citation,
    scored by meaning (cosine similarity with the local model) plus shared words. Answers
    come before questions: the person's own sentences, which resemble the question most,
    are cited only after every good sentence of an answer or document."""
    sentences = [(p.n, p.role == "user", s) for p in passages for s in terms.sentences(p.content)]
    if not sentences:
        return f"{note}\n\n{NOTHING_EXTRACTED}"
    asked = set(terms.words(question))
    vectors = model.embed([question, *(s for _, _, s in sentences)], "document")
    scored = []
    for (n, asked_by_user, sentence), vector in zip(sentences, vectors[1:], strict=True):
        overlap = len(asked & set(terms.words(sentence))) / len(asked) if asked else 0.0
        scored.append((_cosine(vectors[0], vector) + 0.5 * overlap, asked_by_user, n, sentence))
    scored.sort(key=lambda s: (s[1], -s[0]))
    # One line per sentence: the same words in several passages (a branch, a pasted
    # snippet, a repeated step) are one line citing each of them.
    best: dict[str, tuple[str, list[int]]] = {}
    for score, _, n, sentence in scored:
        if score < 0.3:
            continue
        key = " ".join(sentence.casefold().split())
        if key in best:
            if n not in best[key][1]:
                best[key][1].append(n)
        elif len(best) < EXTRACTIVE_SENTENCES:
            best[key] = (sentence, [n])
    if not best:
        return f"{note}\n\n{NOTHING_EXTRACTED}"
    lines = (f"- {s} " + "".join(f"[{n}]" for n in ns) for s, ns in best.values())
    return note + "\n\n" + "\n".join(lines)


def generate(model: ChatModel, question: str, passages: Sequence[CitedPassage]) -> Iterator[str]:
    """The model's answer, piece by piece."""
    return model.stream(SYSTEM_PROMPT, prompt(question, passages))


class WorkspaceNotFound(KnitterError):
    """The workspace to search does not exist or the caller cannot see it."""


@dataclass
class Answer:
    """An answer in the making: the numbered passages, and the text as it is written."""

    passages: list[CitedPassage]
    pieces: Iterator[str]
    provider: str | None
    model: str | None

    @property
    def extractive(self) -> bool:
        return bool(self.passages) and self.provider is None


def ask(
    conn: Connection,
    caller: Caller,
    question: str,
    settings: Settings,
    keyring: Keyring | None,
    *,
    workspace_id: UUID,
    limit: int = 6,
    filters: dict[str, Any] | None = None,
    keyword_only: bool = False,
    provider: str = "auto",
    model_name: str | None = None,
    cache: EmbeddingCache | None = None,
) -> Answer:
    """Search the caller's passages (the query embedded with the workspace's model) and
    start the answer: the CLI and the API both answer through here. The first piece of a
    model's answer is awaited, so a refused key fails here rather than mid-stream."""
    embedding = None
    if not keyword_only:
        embedding = embed_query(
            conn,
            caller,
            workspace_id,
            question,
            api_key=key_for(conn, keyring, settings, caller.user_id),
            cache=cache,
        )
        if embedding is None:
            raise WorkspaceNotFound("no such workspace")
    rows = search(conn, caller, SearchRequest(question, limit, filters or {}), embedding)
    passages = CitedPassage.from_rows(rows)
    if not passages:
        return Answer(passages, iter([NO_PASSAGES]), None, None)
    chat = pick_chat_model(conn, keyring, settings, caller.user_id, provider, model_name)
    if chat is None:
        text = extractive(question, passages, get_model("local", settings.local_model))
        return Answer(passages, iter([text]), None, None)
    stream = generate(chat, question, passages)
    try:
        first = next(stream, "")
    except ProviderError as exc:
        # An unreachable or busy model still leaves the passages: answer from them. A
        # refused key or request stays an error the person can fix.
        if exc.kind not in ("unavailable", "rate_limit"):
            raise
        note = FALLBACK_NOTE.format(provider=_provider_name(chat.provider), reason=exc)
        text = extractive(question, passages, get_model("local", settings.local_model), note)
        return Answer(passages, iter([text]), None, None)
    return Answer(passages, _chain(first, stream), chat.provider, chat.name)


def _provider_name(provider: str) -> str:
    return {"openai": "OpenAI", "gemini": "Gemini"}.get(provider, provider)


def _chain(first: str, rest: Iterator[str]) -> Iterator[str]:
    if first:
        yield first
    yield from rest
