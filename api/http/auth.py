"""Verify Supabase access tokens: HS256 with the project's JWT secret, or an asymmetric key
(ES256/RS256/EdDSA) from the project's JWKS; audience `authenticated`, expiry enforced."""

from __future__ import annotations

import hmac
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt

from api.db.session import Caller

AUDIENCE = "authenticated"
ASYMMETRIC = {"ES256", "RS256", "EdDSA"}
# Supabase's newer API keys are opaque strings, not JWTs: `sb_secret_…` replaces the
# service-role key, `sb_publishable_…` the anon key.
SECRET_KEY_PREFIX = "sb_secret_"  # noqa: S105 (a prefix, not a secret)
# An unknown key id refetches the JWKS (key rotation), but not more often than this.
JWKS_REFRESH_SECONDS = 60.0
# Tokens verified lately, kept until they expire: a person's requests repeat one token,
# and checking its signature again is a tenth of what a small request costs.
VERIFIED_TOKENS = 4096


class AuthError(Exception):
    """The request's token is missing or not acceptable; the message is safe to return."""


@dataclass
class TokenVerifier:
    jwt_secret: str | None = field(default=None, repr=False)
    jwks_url: str | None = None
    # The project's secret API keys (sb_secret_…), accepted where the service role is.
    secret_keys: tuple[str, ...] = field(default=(), repr=False)
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=5.0))
    leeway_seconds: int = 10
    _keys: dict[str, jwt.PyJWK] = field(default_factory=dict, repr=False)
    _fetched_at: float = float("-inf")
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _verified: dict[tuple[str, str | None], dict[str, Any]] = field(
        default_factory=dict, repr=False
    )

    def caller(self, token: str) -> Caller:
        claims = self.verify(token)
        if claims.get("role") != "authenticated" or not claims.get("sub"):
            raise AuthError("the token is not a signed-in user's")
        return Caller("authenticated", claims)

    def service(self, token: str) -> Caller:
        """The caller of an operator endpoint: the project's service-role key (or any token
        with that role, such as a Database Webhook's), or one of its secret API keys."""
        if token.startswith(SECRET_KEY_PREFIX):
            if any(hmac.compare_digest(token.encode(), k.encode()) for k in self.secret_keys):
                return Caller("service_role", {"role": "service_role"})
            raise AuthError("this endpoint needs the service role")
        claims = self.verify(token, audience=None)
        if claims.get("role") != "service_role":
            raise AuthError("this endpoint needs the service role")
        return Caller("service_role", claims)

    def verifies_offline(self, token: str) -> bool:
        """Whether verifying this token needs no fetch of the JWKS (so it can run in the
        event loop): an HS256 token, a malformed one, or one signed by a key at hand."""
        if (token, AUDIENCE) in self._verified or (token, None) in self._verified:
            return True
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            return True
        return header.get("alg") not in ASYMMETRIC or str(header.get("kid") or "") in self._keys

    def verify(self, token: str, audience: str | None = AUDIENCE) -> dict[str, Any]:
        known = self._verified.get((token, audience))
        if known is not None:
            if known["exp"] + self.leeway_seconds > time.time():
                return dict(known)
            raise AuthError("the token has expired")
        claims = self._verify(token, audience)
        with self._lock:
            if len(self._verified) >= VERIFIED_TOKENS:
                del self._verified[next(iter(self._verified))]  # the oldest
            self._verified[(token, audience)] = claims
        return dict(claims)

    def _verify(self, token: str, audience: str | None) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise AuthError("malformed token") from None
        alg = header.get("alg")
        if alg == "HS256":
            if not self.jwt_secret:
                raise AuthError("HS256 tokens are not accepted here")
            key: Any = self.jwt_secret
        elif alg in ASYMMETRIC:
            key = self._jwk(str(header.get("kid") or ""), alg).key
        else:
            raise AuthError(f"unsupported token algorithm {alg!r}")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[alg],
                audience=audience,
                leeway=self.leeway_seconds,
                # Supabase's API keys (anon, service_role) carry no sub and no aud.
                options={
                    "require": ["exp", "sub", "aud"] if audience else ["exp"],
                    "verify_aud": audience is not None,
                },
            )
        except jwt.ExpiredSignatureError:
            raise AuthError("the token has expired") from None
        except jwt.InvalidAudienceError:
            raise AuthError("the token is not for this audience") from None
        except jwt.PyJWTError:
            raise AuthError("invalid token") from None
        return claims

    def _jwk(self, kid: str, alg: str) -> jwt.PyJWK:
        if not self.jwks_url:
            raise AuthError("asymmetric tokens are not accepted here (no JWKS configured)")
        with self._lock:
            if kid not in self._keys and time.monotonic() - self._fetched_at > JWKS_REFRESH_SECONDS:
                self._refresh()
            found = self._keys.get(kid)
        if found is None or (found.algorithm_name and found.algorithm_name != alg):
            raise AuthError("the token's signing key is unknown")
        return found

    def _refresh(self) -> None:
        assert self.jwks_url is not None
        self._fetched_at = time.monotonic()
        try:
            response = self.http.get(self.jwks_url)
            response.raise_for_status()
            keys = jwt.PyJWKSet.from_dict(response.json()).keys
        except (httpx.HTTPError, ValueError, jwt.PyJWTError):
            raise AuthError("the project's signing keys cannot be fetched") from None
        self._keys = {k.key_id: k for k in keys if k.key_id}
