"""Errors a user can act on. The CLI prints them as one line; nothing else is caught."""

from typing import Literal


class KnitterError(Exception):
    """A failure with a message meant for the person running knitter."""


class NotFoundError(KnitterError):
    """What was asked for does not exist, or the caller cannot see it (an API 404)."""


class NotAllowedError(KnitterError):
    """The caller may see this but not change it (an API 403)."""


class ImportFormatError(KnitterError):
    """An input that no importer can read, or that is malformed."""


class UserNotFoundError(KnitterError):
    """No user with that email exists (on a real Supabase project users sign up first)."""


ProviderErrorKind = Literal["auth", "rate_limit", "unavailable", "bad_request"]


class ProviderError(KnitterError):
    """A remote model provider refused or failed a request. `kind` says what the caller can
    do about it: fix the key (auth), wait (rate_limit, unavailable) or the input
    (bad_request). Messages never carry the API key."""

    def __init__(
        self, provider: str, kind: ProviderErrorKind, message: str, status: int | None = None
    ) -> None:
        super().__init__(message)
        self.provider = provider
        self.kind: ProviderErrorKind = kind
        self.status = status
