"""A Redis cache of query embeddings: the same query with the same model is embedded once
per TTL, across API replicas."""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable

import redis

PREFIX = "knitter:qemb:"


class EmbeddingCache:
    def __init__(self, client: redis.Redis | None, ttl_seconds: int) -> None:
        self.client = client
        self.ttl = ttl_seconds

    def get_or_embed(
        self, model_key: str, text: str, embed: Callable[[str], list[float]]
    ) -> list[float]:
        if self.client is None:
            return embed(text)
        key = PREFIX + hashlib.sha256(f"{model_key}\0{text}".encode()).hexdigest()
        try:
            cached = self.client.get(key)
        except redis.RedisError:
            cached = None  # a cache outage must not fail searches
        if cached is not None:
            return list(json.loads(cached))
        vector = embed(text)
        with contextlib.suppress(redis.RedisError):
            self.client.set(key, json.dumps(vector), ex=self.ttl)
        return vector
