"""Gemini embeddings (gemini-embedding-001) through the google-genai SDK.

The SDK sends `POST {base}/{version}/models/<name>:batchEmbedContents` with one request per
text. It makes one attempt; `gemini_client.call` retries 408, 429, 5xx and timeouts within
the model's timeout, waits included.
"""

from __future__ import annotations

from collections.abc import Sequence

from google import genai
from google.genai import types

from api.embeddings.registry import ModelSpec, Purpose, output_dims, register_provider, unit
from api.errors import ProviderError, ProviderErrorKind
from api.providers.gemini_client import call, fail, options, timeout_ms

NATIVE_DIMS = {"gemini-embedding-001": 3072}
# batchEmbedContents refuses more than 100 requests in one batch.
MAX_BATCH_INPUTS = 100
TASK_TYPES: dict[Purpose, str] = {"document": "RETRIEVAL_DOCUMENT", "query": "RETRIEVAL_QUERY"}


class GeminiModel:
    provider = "gemini"

    def __init__(
        self,
        name: str,
        api_key: str | None,
        dims: int | None = None,
        *,
        base_url: str | None = None,
        timeout: float = 30.0,
        retries: int = 4,
        backoff: float = 1.0,
        max_backoff: float = 60.0,
    ) -> None:
        if not api_key:
            raise ProviderError(
                "gemini", "auth", f"embedding with Gemini's {name} needs a Gemini API key"
            )
        self.name = name
        self.dims = output_dims("Gemini", name, NATIVE_DIMS.get(name), dims)
        self._key = api_key
        # One bound on a whole batch: its attempts and the waits between them.
        self._retry = (timeout, retries, backoff, max_backoff)
        http_options = options()
        http_options.base_url = base_url
        self._client = genai.Client(api_key=api_key, vertexai=False, http_options=http_options)

    def __repr__(self) -> str:
        return f"GeminiModel(name={self.name!r}, dims={self.dims})"

    def embed(self, texts: Sequence[str], purpose: Purpose = "document") -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), MAX_BATCH_INPUTS):
            batch = list(texts[start : start + MAX_BATCH_INPUTS])
            vectors.extend(self._embed_batch(batch, purpose))
        return vectors

    def _embed_batch(self, texts: list[str], purpose: Purpose) -> list[list[float]]:
        contents: list[types.PartUnion] = list(texts)

        def attempt(left: float) -> types.EmbedContentResponse:
            config = types.EmbedContentConfig(
                task_type=TASK_TYPES[purpose],
                output_dimensionality=self.dims,
                http_options=timeout_ms(left),
            )
            return self._client.models.embed_content(
                model=self.name, contents=contents, config=config
            )

        response = call(*self._retry, self.name, self._key, attempt)
        try:
            # Shortened embeddings come back unnormalised.
            vectors = [unit(list(e.values or [])) for e in response.embeddings or []]
        except ValueError as exc:
            raise self._fail("unavailable", f"Gemini sent an unusable response: {exc}") from None
        if len(vectors) != len(texts) or any(len(v) != self.dims for v in vectors):
            raise self._fail(
                "unavailable",
                f"Gemini sent {len(vectors)} vectors for {len(texts)} texts"
                f" (expected {self.dims} dimensions each)",
            )
        return vectors

    def _fail(
        self, kind: ProviderErrorKind, message: str, status: int | None = None
    ) -> ProviderError:
        return fail(kind, message, self._key, status)


@register_provider("gemini")
def gemini_model(spec: ModelSpec, api_key: str | None = None) -> GeminiModel:
    return GeminiModel(spec.name, api_key, spec.dims)
