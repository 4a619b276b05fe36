"""Summaries of conversations and topic threads: a few sentences and key topics, stored
with the conversation or thread until someone asks for a fresh one.

With a chat model (the caller's key or the server's) the model writes them; without one
they are extracted: the sentences closest to the text as a whole (TF-IDF centroid, see
api/topics/terms.py), and its most frequent distinctive words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from psycopg import sql

from api.db.session import Caller, Connection, transaction_as
from api.errors import KnitterError, NotAllowedError, NotFoundError
from api.providers.chat import ChatModel
from api.topics import grouping, terms

# Text a summary is written from, at most (a chat model's prompt; extraction's input).
MAX_CHARS = 60_000
SUMMARY_SENTENCES = 3
KEY_TOPICS = 6
SYSTEM_PROMPT = (
    "You summarise a person's saved AI conversations for them. Write two to four plain"
    " sentences on what the text is about and what was concluded, in the language of the"
    " text, without inventing anything. Then, on a last line of its own, write 'Topics:'"
    " followed by three to six short key topics separated by commas."
)
EXTRACTIVE = "extractive"


class SummaryError(KnitterError):
    """The conversation or thread cannot be summarised (too little text)."""


@dataclass(frozen=True)
class Summary:
    summary: str
    key_topics: list[str]
    model: str
    summarized_at: datetime


def parse_reply(reply: str) -> tuple[str, list[str]]:
    """The model's summary, and the topics of its 'Topics:' line (if it wrote one)."""
    lines = reply.strip().splitlines()
    topics: list[str] = []
    if lines and lines[-1].strip().lower().startswith("topics:"):
        listed = lines.pop().split(":", 1)[1]
        topics = [t.strip(" .*") for t in listed.split(",") if t.strip(" .*")]
    return "\n".join(lines).strip(), topics[:KEY_TOPICS]


def write(text: str, chat: ChatModel | None) -> tuple[str, list[str], str]:
    """(summary, key topics, model) for the text."""
    text = text[:MAX_CHARS]
    found = terms.distinctive_terms([text], KEY_TOPICS)[0]
    if chat is not None:
        summary, topics = parse_reply("".join(chat.stream(SYSTEM_PROMPT, text)))
        if summary:
            return summary, topics or found, f"{chat.provider}:{chat.name}"
    picked = terms.central_sentences(text, SUMMARY_SENTENCES)
    if not picked:
        raise SummaryError("there is too little text to summarise")
    return " ".join(picked), found, EXTRACTIVE


def _store(
    conn: Connection, caller: Caller, table: str, row_id: UUID, text: str, chat: ChatModel | None
) -> Summary:
    """Writes the summary of the text and stores it in the row, as the caller."""
    summary, topics, model = write(text, chat)
    # Summaries name the model that wrote them: the API's writer role alone stores them.
    with transaction_as(conn, caller.as_writer()):
        row = conn.execute(
            sql.SQL(
                "update {} set summary = %s, key_topics = %s, summary_model = %s,"
                " summarized_at = now() where id = %s"
                " returning summary, key_topics, summary_model as model, summarized_at"
            ).format(sql.Identifier("public", table)),
            [summary, topics, model, row_id],
        ).fetchone()
    if row is None:  # RLS let the caller read the row but not change it
        raise NotAllowedError("only editors of the workspace can summarise")
    return Summary(**row)


def source_text(conn: Connection, caller: Caller, source_id: UUID) -> str | None:
    """The conversation's title and passages in reading order, on its current branch (None
    if the caller cannot see it)."""
    with transaction_as(conn, caller):
        row = conn.execute(
            """
            select s.title,
                   (select string_agg(c.content, E'\n\n' order by c.message_index,
                                      c.chunk_index)
                    from public.chunks c
                    where c.source_id = s.id and not c.metadata ? 'alternative_of') as body
            from public.sources s where s.id = %s
            """,
            [source_id],
        ).fetchone()
    if row is None:
        return None
    return f"{row['title']}\n\n{row['body'] or ''}".strip()


def summarize_source(
    conn: Connection, caller: Caller, source_id: UUID, chat: ChatModel | None
) -> Summary:
    text = source_text(conn, caller, source_id)
    if text is None:
        raise NotFoundError("no such conversation")
    return _store(conn, caller, "sources", source_id, text, chat)


def summarize_topic_thread(
    conn: Connection, caller: Caller, thread_id: UUID, chat: ChatModel | None
) -> Summary:
    """The thread's summary from its conversations (their summaries where written), and a
    fresh title unless it was given by hand."""
    with transaction_as(conn, caller):
        row = conn.execute(
            "select workspace_id from public.topic_threads where id = %s", [thread_id]
        ).fetchone()
        if row is None:
            raise NotFoundError("no such topic thread")
        workspace_id = row["workspace_id"]
        text = grouping.thread_texts(conn, caller, workspace_id, [thread_id]).get(thread_id, "")
        summaries = conn.execute(
            "select string_agg(summary, E'\n' order by imported_at) as text"
            " from public.sources where thread_id = %s and summary is not null",
            [thread_id],
        ).fetchone()
    if summaries and summaries["text"]:
        text = f"{summaries['text']}\n\n{text}"
    stored = _store(conn, caller, "topic_threads", thread_id, text, chat)
    grouping.retitle(conn, caller, workspace_id, chat, only=[thread_id])
    return stored
