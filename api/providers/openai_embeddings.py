"""OpenAI embeddings (text-embedding-3-*) through the official SDK, and any server that
speaks the same `POST /embeddings` (set OPENAI_BASE_URL or pass base_url)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from api.embeddings.registry import ModelSpec, Purpose, output_dims, register_provider, unit
from api.errors import KnitterError, ProviderError, ProviderErrorKind
from api.providers.openai_client import call, client, fail

# Native sizes; text-embedding-3 models can be shortened with `dimensions`, ada-002 cannot.
NATIVE_DIMS = {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072}
FIXED_DIMS = {"text-embedding-ada-002": 1536}
# The API takes at most 2048 inputs and 300,000 tokens per request. A token is at least one
# UTF-8 byte, so a byte budget never exceeds the token budget, whatever the language.
MAX_BATCH_INPUTS = 2048
MAX_BATCH_BYTES = 300_000


class OpenAIModel:
    provider = "openai"

    def __init__(
        self,
        name: str,
        api_key: str | None,
        dims: int | None = None,
        *,
        base_url: str | None = None,
        timeout: float = 30.0,
        retries: int = 5,
    ) -> None:
        if not api_key:
            raise ProviderError(
                "openai", "auth", f"embedding with OpenAI's {name} needs an OpenAI API key"
            )
        self.name = name
        self.dims = _output_dims(name, dims)
        # ada-002 rejects `dimensions`; other models honour it when asked for a size.
        self._send_dims = dims is not None and name not in FIXED_DIMS
        self._key = api_key
        # One bound on a whole batch: its attempts and the waits between them.
        self._timeout, self._retries = timeout, retries
        self._client = client(api_key, base_url)
        self.base_url = str(self._client.base_url).rstrip("/")

    def __repr__(self) -> str:
        return f"OpenAIModel(name={self.name!r}, dims={self.dims}, base_url={self.base_url!r})"

    def embed(self, texts: Sequence[str], purpose: Purpose = "document") -> list[list[float]]:
        # OpenAI embeds queries and documents alike.
        vectors: list[list[float]] = []
        for batch in batches(texts):
            vectors.extend(self._embed_batch(batch))
        return vectors

    def _embed_batch(self, texts: list[str]) -> list[list[float]]:
        extra: dict[str, Any] = {"dimensions": self.dims} if self._send_dims else {}
        # Floats, not the SDK's default base64 (which it would decode with numpy).
        response = call(
            self._timeout,
            self._retries,
            self.name,
            self._key,
            lambda left: self._client.embeddings.create(
                model=self.name, input=texts, encoding_format="float", timeout=left, **extra
            ),
        )
        try:
            rows = sorted(response.data, key=lambda row: row.index)
            vectors = [unit([float(x) for x in row.embedding]) for row in rows]
        except (TypeError, ValueError) as exc:
            raise self._fail("unavailable", f"OpenAI sent an unusable response: {exc}") from None
        if len(vectors) != len(texts) or any(len(v) != self.dims for v in vectors):
            raise self._fail(
                "unavailable",
                f"OpenAI sent {len(vectors)} vectors for {len(texts)} texts"
                f" (expected {self.dims} dimensions each)",
            )
        return vectors

    def _fail(self, kind: ProviderErrorKind, message: str) -> ProviderError:
        return fail(kind, message, self._key)


def _output_dims(name: str, dims: int | None) -> int:
    if name in FIXED_DIMS:
        if dims is not None and dims != FIXED_DIMS[name]:
            raise KnitterError(f"{name} gives {FIXED_DIMS[name]} dimensions, not {dims}")
        return FIXED_DIMS[name]
    return output_dims("OpenAI", name, NATIVE_DIMS.get(name), dims)


def batches(texts: Sequence[str]) -> Iterator[list[str]]:
    """Consecutive runs of texts within the request limits (a text over the byte budget
    goes alone; the API then says whether it is too long)."""
    batch: list[str] = []
    size = 0
    for text in texts:
        n = len(text.encode("utf-8"))
        if batch and (len(batch) == MAX_BATCH_INPUTS or size + n > MAX_BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(text)
        size += n
    if batch:
        yield batch


@register_provider("openai")
def openai_model(spec: ModelSpec, api_key: str | None = None) -> OpenAIModel:
    return OpenAIModel(spec.name, api_key, spec.dims)
