"""api/rate_limits.py, which the API, the MCP server and the gateway share: counted in
the real Redis so replicas agree, and in the process while Redis is away."""

from __future__ import annotations

import uuid

import pytest

from api.rate_limits import RateLimited, RateLimits
from api.shared_redis import SharedRedis
from tests.conftest import redis_url
from tests.test_faults import free_port


def over(limits: RateLimits, limit: str, key: str, tries: int) -> list[int]:
    """The tries that were refused, by number."""
    refused = []
    for n in range(tries):
        try:
            limits.check(limit, "test", key)
        except RateLimited:
            refused.append(n)
    return refused


def test_a_limit_refuses_the_one_too_many_and_says_when_to_come_back() -> None:
    limits, key = RateLimits(), uuid.uuid4().hex
    assert over(limits, "3/minute", key, 3) == []
    with pytest.raises(RateLimited) as refused:
        limits.check("3/minute", "test", key)
    wait = refused.value.retry_after
    assert 1 <= wait <= 60
    said = f"too many requests (at most 3 per minute); try again in {wait} s"
    assert str(refused.value) == said
    # Another key, or another limit's scope, has its own count.
    assert over(limits, "3/minute", uuid.uuid4().hex, 3) == []


def test_replicas_share_a_count_in_redis() -> None:
    a, b = RateLimits(SharedRedis(redis_url())), RateLimits(SharedRedis(redis_url()))
    key = uuid.uuid4().hex
    assert over(a, "4/minute", key, 2) == [] and over(b, "4/minute", key, 2) == []
    assert over(a, "4/minute", key, 1) == [0]


def test_with_redis_away_the_process_counts() -> None:
    gone = RateLimits(SharedRedis(f"redis://127.0.0.1:{free_port()}/0"))  # nothing listens
    assert over(gone, "2/minute", uuid.uuid4().hex, 4) == [2, 3]
    assert gone.redis is not None and not gone.redis.available
