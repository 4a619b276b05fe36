"""One time bound on a provider call, its retries and the waits between them included.

The SDKs retry on their own, but give every attempt the whole timeout again (OpenAI's six
attempts of 30 s held a worker thread for minutes); so they make one attempt each and
tenacity retries here: an attempt may take only what is left of the bound, and no wait
starts that would end after it (`stop_before_delay`)."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

import tenacity

T = TypeVar("T")
log = logging.getLogger(__name__)


class DeadlinePassed(Exception):
    """No time is left for another attempt (the caller maps it to its timed-out error)."""


def within(
    timeout: float,
    attempt: Callable[[float], T],
    *,
    attempts: int,
    retryable: Callable[[BaseException], bool],
    pause: Callable[[int, BaseException], float],
) -> T:
    """attempt(seconds left) up to `attempts` times while `retryable` says its failure is
    passing, pausing pause(attempt number, failure) between them, all within `timeout`
    seconds. The last failure is raised as it was."""
    deadline = time.monotonic() + timeout

    def once() -> T:
        left = deadline - time.monotonic()
        if left <= 0:
            raise DeadlinePassed
        return attempt(left)

    def wait(state: tenacity.RetryCallState) -> float:
        failure = state.outcome.exception() if state.outcome else None
        return pause(state.attempt_number, failure) if failure else 0.0

    def before_sleep(state: tenacity.RetryCallState) -> None:
        # The failure's type only: a provider's message may echo the key.
        failure = state.outcome.exception() if state.outcome else None
        log.info(
            "Retrying a provider call in %.2f s (attempt %d: %s)",
            state.upcoming_sleep,
            state.attempt_number,
            type(failure).__name__,
        )

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(attempts) | tenacity.stop_before_delay(timeout),
        wait=wait,
        retry=tenacity.retry_if_exception(retryable),
        reraise=True,
        before_sleep=before_sleep,
    )
    return retrying(once)


def backoff(attempt_number: int, initial: float, most: float) -> float:
    """Exponential backoff with up to 25% jitter off (what the OpenAI SDK takes)."""
    return float(min(initial * 2 ** (attempt_number - 1), most) * (1 - 0.25 * random.random()))
