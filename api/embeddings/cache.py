"""A Redis cache of query embeddings: the same query with the same model is embedded once
per TTL, across API replicas. With Redis away every query is embedded (shared_redis)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

import numpy as np
import redis

from api.shared_redis import SharedRedis

# float32 bytes (the models' own precision; v1 held JSON text), keyed by the model's
# provider, name and dimensions (v2 by its row id in one database).
PREFIX = "knitter:qemb:v3:"

Embed = Callable[[str], list[float]]


class EmbeddingCache:
    def __init__(self, redis: SharedRedis | None, ttl_seconds: int) -> None:
        self.redis = redis
        self.ttl = ttl_seconds

    def get_or_embed_all(self, wanted: Sequence[tuple[str, str, Embed]]) -> list[list[float]]:
        """Each (model key, text, embed)'s vector: what the cache holds in one round trip,
        the rest embedded and stored."""
        if self.redis is None:
            return [embed(text) for _, text, embed in wanted]
        keys = [
            PREFIX + hashlib.sha256(f"{model_key}\0{text}".encode()).hexdigest()
            for model_key, text, _ in wanted
        ]
        cached: list[bytes | str | None] = self.redis.run(
            lambda client: client.mget(keys), lambda: [None] * len(keys)
        )
        vectors: list[list[float]] = []
        missed: dict[str, bytes] = {}
        for key, hit, (_, text, embed) in zip(keys, cached, wanted, strict=True):
            if isinstance(hit, bytes):
                vectors.append(np.frombuffer(hit, dtype="<f4").tolist())
                continue
            vector = embed(text)
            vectors.append(vector)
            missed[key] = np.asarray(vector, dtype="<f4").tobytes()
        if missed:
            self.redis.run(lambda client: self._store(client, missed), lambda: None)
        return vectors

    def _store(self, client: redis.Redis, vectors: dict[str, bytes]) -> None:
        with client.pipeline(False) as pipe:
            for key, value in vectors.items():
                pipe.set(key, value, ex=self.ttl)
            pipe.execute()
