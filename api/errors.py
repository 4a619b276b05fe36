"""Errors a user can act on. The CLI prints them as one line; nothing else is caught."""


class KnitterError(Exception):
    """A failure with a message meant for the person running knitter."""


class ImportFormatError(KnitterError):
    """An input that no importer can read, or that is malformed."""


class UserNotFoundError(KnitterError):
    """No user with that email exists (on a real Supabase project users sign up first)."""
