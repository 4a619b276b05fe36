"""Request and response bodies of the HTTP API (they are its OpenAPI schema)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from api.answers.answering import CitedPassage
from api.importers.options import LANGUAGE_CODE
from api.text import NO_NUL, NOT_TEXT, holds_lone_surrogate

Query = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000, pattern=NO_NUL)
]
Word = Annotated[str, StringConstraints(max_length=200, pattern=NO_NUL)]
OneOrMany = Word | list[Word]


class RequestBody(BaseModel):
    """A JSON request body: a lone surrogate anywhere in it is refused at the door (422),
    as a NUL is, rather than failing wherever the text goes."""

    @model_validator(mode="before")
    @classmethod
    def _text_only(cls, data: Any) -> Any:
        if holds_lone_surrogate(data):
            raise ValueError(NOT_TEXT)
        return data


class SearchFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    workspace_id: UUID | None = None
    source_id: UUID | list[UUID] | None = None
    platform: OneOrMany | None = Field(default=None, examples=["chatgpt"])
    kind: OneOrMany | None = Field(default=None, examples=[["chatgpt_export", "markdown"]])
    role: OneOrMany | None = Field(default=None, examples=["assistant"])
    date_from: datetime | None = None
    date_to: datetime | None = None
    include_alternatives: bool | None = Field(
        default=None,
        description="Also find other versions of messages (edits, regenerations) besides"
        " the branch the person last saw.",
    )

    def as_rpc(self) -> dict[str, Any]:
        filters = self.model_dump(mode="json", exclude_none=True)
        # In UTC: PostgreSQL accepts offsets up to ±15:59, Python up to ±23:59.
        for name in ("date_from", "date_to"):
            if (value := getattr(self, name)) is not None:
                filters[name] = _utc(value).isoformat()
        return filters


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


class SearchBody(RequestBody):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "query": "how did I fix the sourdough starter",
                    "limit": 5,
                    "filters": {"platform": "chatgpt"},
                }
            ]
        },
    )

    query: Query
    limit: int = Field(default=10, ge=1, le=50)
    filters: SearchFilters = Field(default_factory=SearchFilters)
    full_text_weight: float = Field(default=1.0, ge=0, le=100)
    semantic_weight: float = Field(default=1.0, ge=0, le=100)
    rrf_k: int = Field(default=50, ge=1, le=1000)
    keyword_only: bool = False


class SearchResult(BaseModel):
    chunk_id: int
    source_id: UUID
    workspace_id: UUID
    source_title: str
    platform: str
    kind: str
    url: str | None
    role: str
    author: str | None
    created_at: datetime | None
    message_index: int
    chunk_index: int
    content: str
    snippet: str = Field(description="HTML-escaped text; the matches are wrapped in <mark>.")
    score: float
    keyword_rank: int | None
    keyword_score: float | None
    semantic_rank: int | None
    semantic_score: float | None


class SearchResponse(BaseModel):
    results: list[SearchResult]
    semantic: bool = Field(description="Whether the vector branch took part.")
    pending_conversations: int = Field(
        default=0,
        description="Conversations in the searched workspaces whose passages are still "
        "waiting for their embedding: they are found by keyword only until then.",
    )


class EmbedBody(RequestBody):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "texts": ["sourdough starter"],
                    "provider": "local",
                    "model": "all-MiniLM-L6-v2",
                    "purpose": "query",
                }
            ]
        },
    )

    texts: list[Annotated[str, StringConstraints(min_length=1, max_length=8000)]] = Field(
        min_length=1, max_length=100
    )
    provider: Literal["local", "openai", "gemini"] = "local"
    model: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    dims: int | None = Field(default=None, ge=1, le=4000)
    purpose: Literal["document", "query"] = "document"


class EmbedResponse(BaseModel):
    provider: str
    model: str
    dims: int
    embeddings: list[list[float]]


class ImportUrls(RequestBody):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"urls": ["https://chatgpt.com/share/abc123"]}]},
    )

    # Only web addresses: never a path on the server.
    urls: list[
        Annotated[
            str,
            StringConstraints(
                strip_whitespace=True,
                min_length=8,
                max_length=2000,
                pattern=r"^[Hh][Tt][Tt][Pp][Ss]?://\S+$",
            ),
        ]
    ] = Field(min_length=1, max_length=20)
    workspace_id: UUID | None = None
    languages: list[Annotated[str, StringConstraints(pattern=LANGUAGE_CODE)]] = Field(
        default=["en"],
        min_length=1,
        max_length=10,
        description="YouTube videos: transcript languages in order of preference (codes"
        " such as de, en, pt-BR). A manual transcript in one of them is taken first, then an"
        " auto-generated one, then any transcript the video has.",
    )


class ImportError_(BaseModel):
    item: str = Field(description="What failed: a file, or a conversation inside one.")
    message: str
    origin: str = Field(default="", description="The uploaded file or link it came from.")


class ImportItemReport(BaseModel):
    # Always sent (reports saved before a field existed get its default).
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    item: str = Field(description="An uploaded file or a link, as the job names it.")
    formats: list[str] = Field(description='What it was read as, e.g. "ChatGPT export".')
    added: int
    updated: int
    skipped: int
    failed: int
    messages: int = Field(description="Messages of its conversations kept (new or known).")
    alternatives: int = Field(
        default=0,
        description="Other versions of those messages kept (edits, regenerations and what"
        " follows them): found only when a search asks to include alternatives.",
    )
    left_out: dict[str, int] = Field(
        description="Not kept as text, by kind: images, audio, files, reasoning, plumbing"
        " (hidden tool and system messages the person never saw)."
    )
    side_files: int = Field(
        description="Files of an export that hold no conversations (viewer, account data)."
    )
    skips: list[str] = Field(
        default_factory=list,
        description="Why each skipped input with nothing to import was skipped, e.g."
        " \"conversation 2 ('Corrupted entry'): no messages\" (conversations already"
        " imported are counted in `skipped` without a line).",
    )


class ImportJobFile(BaseModel):
    name: str = Field(description="The uploaded file's name, or the link.")
    size: int | None = Field(description="Bytes uploaded; null for a link.")


class ImportJob(BaseModel):
    # Always sent, so the response schema lists every field as required, defaults included.
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    id: UUID
    workspace_id: UUID
    status: Literal["queued", "running", "succeeded", "failed", "interrupted"] = Field(
        description="interrupted: the server stopped mid-way; `errors` says what is missing."
    )
    items_total: int
    items_done: int
    added: int
    updated: int
    skipped: int
    failed: int
    passages: int
    errors: list[ImportError_]
    items: list[ImportItemReport] = Field(
        default_factory=list, description="The report per uploaded file or link."
    )
    files: list[ImportJobFile] = Field(
        default_factory=list, description="What the job was given, known from its start."
    )
    embedding_pending: int = Field(
        default=0,
        description="Passages this job queued that still wait for an embedding with the "
        "model search uses (re-embedding for a switch of model under way is not counted).",
    )
    meaning_pending: int = Field(
        default=0,
        description="Passages of the workspace not yet searchable by meaning at all: still "
        "waiting for the fast static vector that stands in until the model's own "
        "(`embedding_pending`). Both reach 0 when the import is fully indexed.",
    )
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class ImportJobList(BaseModel):
    jobs: list[ImportJob]


class KeyBody(RequestBody):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"key": "sk-…"}]})

    # Provider keys are printable ASCII without spaces.
    key: Annotated[
        str,
        StringConstraints(
            strip_whitespace=True, min_length=8, max_length=500, pattern=r"^[\x21-\x7e]+$"
        ),
    ]


class KeyInfoResponse(BaseModel):
    provider: str
    last_four: str
    updated_at: datetime


class KeyList(BaseModel):
    keys: list[KeyInfoResponse]


class KeyTestResponse(BaseModel):
    ok: bool
    provider: str
    model: str
    message: str


class Alive(BaseModel):
    status: Literal["alive"]
    version: str


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    version: str
    environment: str
    database: Literal["ok", "unreachable"]
    migrations: Literal["current", "pending", "unknown"]
    checked_at: datetime = Field(description="When the database was checked: up to a second ago.")


# --- suggestions and search history ----------------------------------------------------


class Suggestion(BaseModel):
    suggestion: str
    kind: Literal["history", "source"] = Field(
        description="A past query of the caller's, or the title of a source they can read."
    )
    score: float


class SuggestionsResponse(BaseModel):
    suggestions: list[Suggestion]


class HistoryEntry(BaseModel):
    query: str
    workspace_id: UUID | None
    created_at: datetime


class HistoryResponse(BaseModel):
    entries: list[HistoryEntry]


class HistoryCleared(BaseModel):
    deleted: int


# --- export and account deletion --------------------------------------------------------


class AccountDeleteBody(RequestBody):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"confirm": "delete my account"}]}
    )

    confirm: Literal["delete my account"] = Field(
        description='Exactly "delete my account": deleting cannot be undone.'
    )


# --- answers with citations --------------------------------------------------------------


# Who answers or summarises: see providers.choice.pick_chat_model.
ProviderChoice = Literal["auto", "openai", "gemini", "extractive"]


class AskBody(RequestBody):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"question": "Why did my sourdough starter smell of acetone?"}]
        },
    )

    question: Query
    limit: int = Field(default=6, ge=1, le=20, description="How many passages to answer from.")
    filters: SearchFilters = Field(default_factory=SearchFilters)
    provider: ProviderChoice = Field(
        default="auto",
        description="auto: the caller's own key (OpenAI, then Gemini), else the server's,"
        " else an extractive answer without a model.",
    )
    model: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    keyword_only: bool = False


class Citation(CitedPassage):
    """A passage the answer cites: its number, where it comes from, and its text."""


class AskResponse(BaseModel):
    answer: str
    citations: list[Citation]
    cited: list[int] = Field(description="The citation numbers the answer uses, in order.")
    extractive: bool = Field(description="True when no language model wrote the answer.")
    provider: str | None
    model: str | None


# --- micro-threads ----------------------------------------------------------------------


class MicroThreadBody(RequestBody):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"question": "Why twice a day?"}]}
    )

    question: Query
    provider: ProviderChoice = "auto"
    model: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None


class MicroThread(BaseModel):
    id: UUID
    chunk_id: int
    workspace_id: UUID
    user_id: UUID
    question: str
    answer: str
    model: str | None = Field(
        description='"provider:model" of the chat model, or "extractive" when none was used.'
    )
    citations: list[Citation] = Field(description="[1] is the passage asked about.")
    created_at: datetime


class MicroThreadsResponse(BaseModel):
    threads: list[MicroThread]


class SummaryBody(RequestBody):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{}]})

    provider: ProviderChoice = Field(
        default="auto",
        description="auto: the caller's own key (OpenAI, then Gemini), else the server's,"
        " else an extractive summary without a model.",
    )
    model: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None


class SummaryResponse(BaseModel):
    summary: str
    key_topics: list[str]
    model: str = Field(description='"provider:model", or "extractive" when no model wrote it.')
    summarized_at: datetime


class RegroupBody(RequestBody):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"similarity": 0.3}]})

    similarity: float | None = Field(
        default=None,
        ge=0.05,
        le=0.95,
        description="How alike (cosine similarity of their centroids) conversations must be"
        " to share a thread: higher gives more, narrower threads. Kept as the workspace's"
        " threshold; omitted, the workspace's current one is used.",
    )
    provider: ProviderChoice = Field(
        default="auto", description="Who writes the new threads' titles."
    )


class RegroupResponse(BaseModel):
    threads: int
    conversations: int = Field(description="Conversations now in a thread.")
    similarity: float
    unthreaded: int = Field(description="Conversations still waiting for their embeddings.")


class EmbeddingModelResponse(BaseModel):
    id: int
    provider: str = Field(examples=["local"])
    name: str = Field(examples=["all-MiniLM-L6-v2"])
    dims: int = Field(examples=[384])
    is_default: bool = Field(description="The model new workspaces start with.")
    available: bool = Field(
        description="This server can embed with it now: a local model it has, or a remote "
        "one it holds the provider's key for (OPENAI_API_KEY, GEMINI_API_KEY)."
    )


class EmbeddingModelBody(RequestBody):
    model_config = ConfigDict(extra="forbid")

    model_id: int = Field(description="An id from GET /v1/embedding-models.")


class EmbeddingStatusResponse(BaseModel):
    workspace_id: UUID
    model: EmbeddingModelResponse = Field(description="The model search uses now.")
    next_model: EmbeddingModelResponse | None = Field(
        description="The model the workspace is switching to; search moves to it once every "
        "passage has its vector. Null when no switch is under way."
    )
    passages: int = Field(description="The workspace's passages.")
    embedded: int = Field(
        description="How many have a vector of next_model (of model when no switch is under "
        "way): re-embedding `embedded` / `passages`."
    )


class PackBody(RequestBody):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"conversation_id": "6f1c9c4e-0000-4000-8000-000000000000", "budget": 1500}
            ]
        },
    )

    conversation_id: UUID | None = Field(default=None, description="Pack this conversation.")
    thread_id: UUID | None = Field(default=None, description="Pack this topic thread.")
    question: Query | None = Field(default=None, description="Pack the answer to this question.")
    budget: int = Field(
        default=2000, ge=200, le=32000, description="The most tokens the pack may take."
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> PackBody:
        if sum(v is not None for v in (self.conversation_id, self.thread_id, self.question)) != 1:
            raise ValueError("give exactly one of conversation_id, thread_id or question")
        return self


class PackResponse(BaseModel):
    title: str
    markdown: str = Field(description="The pack; each [n] cites a passage listed at its end.")
    tokens: int
    budget: int
    truncated: bool = Field(description="Whether something was left out to fit the budget.")
    cited: list[int] = Field(description="The chunk ids of the cited passages, as numbered.")
