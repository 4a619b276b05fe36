"""JWTs: the access tokens the gateway issues (GoTrue's claim shape) and the check of the
token a request carries (a user's access token or an API key), as PostgREST checks it."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import jwt

from api.db.session import Caller

API_ROLES = frozenset({"anon", "authenticated", "service_role"})


class InvalidToken(Exception):
    """The token is malformed, badly signed, expired or names a role we do not serve."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


@dataclass(frozen=True)
class TokenIssuer:
    secret: str
    issuer: str
    ttl_seconds: int = 3600

    def access_token(self, user: dict[str, Any], session_id: UUID, method: str) -> tuple[str, int]:
        """A signed access token for the user row and session; returns (token, exp)."""
        now = int(time.time())
        exp = now + self.ttl_seconds
        claims = {
            "iss": self.issuer,
            "sub": str(user["id"]),
            "aud": "authenticated",
            "exp": exp,
            "iat": now,
            "email": user["email"] or "",
            "phone": "",
            "app_metadata": user["raw_app_meta_data"],
            "user_metadata": user["raw_user_meta_data"],
            "role": "authenticated",
            "aal": "aal1",
            "amr": [{"method": method, "timestamp": now}],
            "session_id": str(session_id),
            "is_anonymous": bool(user["is_anonymous"]),
        }
        return jwt.encode(claims, self.secret, algorithm="HS256"), exp

    def verify(self, token: str) -> dict[str, Any]:
        """Signature and expiry, as PostgREST checks them (no audience is configured there:
        API keys carry none, user tokens carry `authenticated`)."""
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self.secret,
                algorithms=["HS256"],
                options={"verify_aud": False, "require": ["exp"]},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("JWT expired", expired=True) from None
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"invalid JWT: {exc}") from None
        role = claims.get("role")
        if role not in API_ROLES:
            raise InvalidToken("the JWT's role is not one this gateway serves")
        if role == "authenticated" and not claims.get("sub"):
            raise InvalidToken("invalid JWT: missing sub claim")
        return claims

    def caller(self, token: str) -> Caller:
        claims = self.verify(token)
        return Caller(str(claims["role"]), claims)
