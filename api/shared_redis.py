"""The one Redis client of a process (the query cache and the rate limits), behind a
breaker. A healthy Redis answers in a millisecond; one that is gone or stalled would make
every request wait for its timeout. After an error or a timeout Redis is left alone for
RETRY_SECONDS, then one call tries it again; meanwhile each caller's fallback answers
(no cache, limits counted in this process)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import redis

log = logging.getLogger("knitter.redis")

T = TypeVar("T")

TIMEOUT_SECONDS = 0.5
RETRY_SECONDS = 5.0


class SharedRedis:
    def __init__(self, url: str) -> None:
        self.client = redis.Redis.from_url(
            url, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS
        )
        self.retry_seconds = RETRY_SECONDS
        self._retry_at = 0.0  # time.monotonic() of the next try; 0 while Redis answers
        self._lock = threading.Lock()

    def run(self, op: Callable[[redis.Redis], T], fallback: Callable[[], T]) -> T:
        """`op(client)`, or `fallback()` when Redis fails now or failed moments ago."""
        if not self._may_try():
            return fallback()
        try:
            result = op(self.client)
        except redis.RedisError as exc:
            self._failed(exc)
            return fallback()
        if self._retry_at:
            self._retry_at = 0.0
            log.warning("Redis is back: query cache and shared rate limits on again")
        return result

    @property
    def available(self) -> bool:
        """False while the breaker keeps Redis alone."""
        return not self._retry_at

    def _may_try(self) -> bool:
        if not self._retry_at:
            return True
        with self._lock:
            now = time.monotonic()
            if now < self._retry_at:
                return False
            # This call tries; the others keep to their fallback until it has answered.
            self._retry_at = now + self.retry_seconds
            return True

    def _failed(self, exc: redis.RedisError) -> None:
        with self._lock:
            was_up = not self._retry_at
            self._retry_at = time.monotonic() + self.retry_seconds
        if was_up:
            log.warning(
                "Redis failed (%s): no query cache and rate limits per process; trying again"
                " every %g s",
                type(exc).__name__,
                self.retry_seconds,
            )

    def close(self) -> None:
        self.client.close()
