"""AES-256-GCM for users' provider keys: a fresh nonce per write, the user and provider as
associated data (a ciphertext moved to another row does not decrypt), and versioned keys so
ENCRYPTION_KEY can be rotated. Key material never appears in errors or reprs."""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass, field
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from api.config import Settings
from api.errors import KnitterError

HOW_TO = "make one with `python scripts/generate_encryption_key.py`"


class KeyringError(KnitterError):
    """Bad key configuration, or a ciphertext that does not decrypt."""


@dataclass(frozen=True)
class Sealed:
    ciphertext: bytes
    nonce: bytes
    key_version: int


def _decode(value: str, name: str) -> bytes:
    try:
        key = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise KeyringError(f"{name} is not valid base64; {HOW_TO}") from None
    if len(key) != 32:
        raise KeyringError(f"{name} must be 32 bytes (base64-encoded), not {len(key)}; {HOW_TO}")
    return key


@dataclass(frozen=True)
class Keyring:
    version: int
    keys: dict[int, bytes] = field(repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Keyring | None:
        """The keyring, or None when no ENCRYPTION_KEY is set. A malformed key raises."""
        if settings.encryption_key is None:
            return None
        version = settings.encryption_key_version
        keys = {version: _decode(settings.encryption_key.get_secret_value(), "ENCRYPTION_KEY")}
        previous = settings.encryption_keys_previous
        for entry in previous.get_secret_value().split(",") if previous else []:
            number, sep, value = entry.strip().partition(":")
            if not sep or not number.isdigit() or int(number) == version:
                raise KeyringError(
                    "ENCRYPTION_KEYS_PREVIOUS must look like '1:<base64>,2:<base64>',"
                    " with versions other than ENCRYPTION_KEY_VERSION"
                )
            keys[int(number)] = _decode(value, f"ENCRYPTION_KEYS_PREVIOUS version {number}")
        return cls(version, keys)

    def seal(self, plaintext: str, user_id: UUID, provider: str) -> Sealed:
        nonce = os.urandom(12)
        data = AESGCM(self.keys[self.version]).encrypt(
            nonce, plaintext.encode(), _associated(user_id, provider)
        )
        return Sealed(data, nonce, self.version)

    def open(self, sealed: Sealed, user_id: UUID, provider: str) -> str:
        key = self.keys.get(sealed.key_version)
        if key is None:
            raise KeyringError(f"no encryption key of version {sealed.key_version} is configured")
        try:
            data = AESGCM(key).decrypt(
                sealed.nonce, sealed.ciphertext, _associated(user_id, provider)
            )
        except InvalidTag:
            raise KeyringError("a stored key does not decrypt with the configured keys") from None
        return data.decode()


def _associated(user_id: UUID, provider: str) -> bytes:
    return f"knitter-api-key:{user_id}:{provider}".encode()


def generate_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()
