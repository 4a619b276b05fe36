"""Rate limits for the API, the MCP server and the local gateway: fixed windows (limits'
FixedWindowRateLimiter), counted in Redis when it is configured, so replicas share them,
and in this process while it is not or while Redis is away (see shared_redis)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TypeVar

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, RedisStorage
from limits.strategies import FixedWindowRateLimiter

from api.shared_redis import SharedRedis

T = TypeVar("T")

PREFIX = "knitter:limit"


def describe(limit: RateLimitItem) -> str:
    """'60 per minute', '3 per 2 seconds' (limits' own str says '3 per 2 second')."""
    unit = limit.GRANULARITY.name
    if limit.multiples == 1:
        return f"{limit.amount} per {unit}"
    return f"{limit.amount} per {limit.multiples} {unit}s"


class RateLimited(Exception):
    """One request too many: `retry_after` whole seconds until the window resets. Its
    text is for the person who made the request (the web app and agents show it)."""

    def __init__(self, limit: RateLimitItem, retry_after: int) -> None:
        super().__init__(
            f"too many requests (at most {describe(limit)}); try again in {retry_after} s"
        )
        self.limit = limit
        self.retry_after = retry_after


class RateLimits:
    def __init__(self, redis: SharedRedis | None = None) -> None:
        self.redis = redis
        self.local = FixedWindowRateLimiter(MemoryStorage())
        self.shared = (
            FixedWindowRateLimiter(
                RedisStorage(
                    "redis://", connection_pool=redis.client.connection_pool, key_prefix=PREFIX
                )
            )
            if redis is not None
            else None
        )

    @property
    def waits_on_the_network(self) -> bool:
        """True when a check may wait on Redis: keep it off the event loop."""
        return self.redis is not None

    def check(self, limit: RateLimitItem | str, *identifiers: str) -> None:
        """Counts one hit on `limit` for `identifiers`; RateLimited if that is one too many."""
        item = parse(limit) if isinstance(limit, str) else limit
        if not self._counted(lambda limiter: limiter.hit(item, *identifiers)):
            self._refuse(item, identifiers)

    def check_left(self, limit: RateLimitItem | str, *identifiers: str) -> None:
        """RateLimited if `limit` is spent for `identifiers`; counts nothing (for limits on
        failures, counted with `check` once one happens)."""
        item = parse(limit) if isinstance(limit, str) else limit
        if not self._counted(lambda limiter: limiter.test(item, *identifiers)):
            self._refuse(item, identifiers)

    def _refuse(self, item: RateLimitItem, identifiers: tuple[str, ...]) -> None:
        reset = self._counted(lambda limiter: limiter.get_window_stats(item, *identifiers))[0]
        raise RateLimited(item, max(1, math.ceil(reset - time.time())))

    def _counted(self, op: Callable[[FixedWindowRateLimiter], T]) -> T:
        shared = self.shared
        if self.redis is None or shared is None:
            return op(self.local)
        return self.redis.run(lambda _: op(shared), lambda: op(self.local))
