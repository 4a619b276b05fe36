"""The local stack's JWT secret and its two API keys (anon, service_role), minted as the
Supabase CLI mints them: HS256 JWTs with a `role` claim, signed with the project secret."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import stat
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import jwt

from api.errors import KnitterError

KEYS_FILE = "supabase-keys.json"
ISSUER = "supabase-demo"
# Long-lived like the CLI's demo keys; a new secret (delete the file) replaces them.
API_KEY_LIFETIME_SECONDS = 10 * 365 * 24 * 3600


class LocalKeys(NamedTuple):
    jwt_secret: str
    anon_key: str
    service_role_key: str


def mint_api_key(jwt_secret: str, role: str, *, issued_at: int | None = None) -> str:
    """An API key for `role` (anon or service_role) signed with the secret."""
    iat = int(time.time()) if issued_at is None else issued_at
    claims = {"iss": ISSUER, "role": role, "iat": iat, "exp": iat + API_KEY_LIFETIME_SECONDS}
    return jwt.encode(claims, jwt_secret, algorithm="HS256")


def local_secrets(home: Path) -> LocalKeys:
    """The secret and keys kept under `home`: made once (mode 0600) and reused every run."""
    path = home / KEYS_FILE
    if not path.exists():
        _create(path)
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        path.chmod(0o600)  # copied or edited with looser permissions: it holds the secret
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return LocalKeys(data["jwt_secret"], data["anon_key"], data["service_role_key"])
    except (ValueError, KeyError, TypeError):
        raise KnitterError(
            f"{path} is damaged; delete it to make new keys (everyone signs in again)"
        ) from None


def _create(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    now = int(time.time())
    data = {
        "jwt_secret": secret,
        "anon_key": mint_api_key(secret, "anon", issued_at=now),
        "service_role_key": mint_api_key(secret, "service_role", issued_at=now),
    }
    # Written whole to a private temporary file, then linked into place: a second process
    # starting at the same time never reads half a file, and the first one to link wins.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".supabase-keys-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out)
        with contextlib.suppress(FileExistsError):  # another process was first
            os.link(tmp, path)
    finally:
        os.unlink(tmp)
