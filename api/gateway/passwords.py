"""Password hashing with scrypt (a memory-hard KDF from the standard library)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import threading

# About 16 MiB and tens of milliseconds per hash: slow for guessing, fine for sign-ins.
N, R, P = 2**14, 8, 1
DKLEN = 32
SCHEME = "scrypt"


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


# Hashes at once, one per core: more do not finish sooner, and each holds its 16 MiB, so
# 50 sign-ups at once would otherwise hold 800 MiB (memory the allocator keeps after).
HASHING = threading.BoundedSemaphore(os.cpu_count() or 2)


def _derive(password: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    with HASHING:
        return hashlib.scrypt(
            password.encode(), salt=salt, n=n, r=r, p=p, dklen=dklen, maxmem=64 * 1024 * 1024
        )


def hash_password(password: str) -> str:
    """`scrypt$n$r$p$salt$hash`: the parameters travel with the hash so they can grow."""
    salt = secrets.token_bytes(16)
    digest = _derive(password, salt, N, R, P, DKLEN)
    return f"{SCHEME}${N}${R}${P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, encoded: str | None) -> bool:
    """Constant-time check. Without a stored hash (unknown user, anonymous user) a dummy
    hash is still computed, so timing does not tell which emails exist."""
    if not encoded:
        _derive(password, b"\0" * 16, N, R, P, DKLEN)
        return False
    try:
        scheme, n, r, p, salt, digest = encoded.split("$")
        expected = base64.b64decode(digest)
        if scheme != SCHEME:
            return False
        actual = _derive(password, base64.b64decode(salt), int(n), int(r), int(p), len(expected))
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)
