"""Throttling of the gateway's sign-up and sign-in, as GoTrue throttles them: per client
address (its `sign_in_sign_ups` limit) and, against guessing one person's password from
many addresses, per email. Over the limit: GoTrue's 429 with `Retry-After`."""

from __future__ import annotations

from limits import parse

from api.gateway.errors import AuthApiError
from api.rate_limits import RateLimited, RateLimits, describe


class AuthThrottle:
    def __init__(self, per_address: str, per_email: str) -> None:
        self.limits = RateLimits()  # the local gateway is one process
        self.per_address = parse(per_address)
        self.per_email = parse(per_email)

    def check(self, address: str, email: str | None) -> None:
        """Counts one attempt; AuthApiError 429 when the address or the email is over."""
        hits = [(self.per_address, "address", address)]
        if email:
            hits.append((self.per_email, "email", email.strip().lower()))
        for limit, kind, key in hits:
            try:
                self.limits.check(limit, "auth", kind, key)
            except RateLimited as exc:
                raise AuthApiError(
                    429,
                    "over_request_rate_limit",
                    f"Request rate limit reached: at most {describe(limit)} per {kind}",
                    headers={"Retry-After": str(exc.retry_after)},
                ) from None
