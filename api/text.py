"""What PostgreSQL can store as text. Neither its text nor its jsonb holds NUL or a lone
UTF-16 surrogate, and JSON can escape both: half of an emoji's pair ("\\ud83d") in a title
cut short, a stray NUL from a tool's output. Python reads them into a str, and the
tokenizer, Redis and the database then refuse it wherever it goes."""

from __future__ import annotations

import re
from typing import Any

LONE_SURROGATE = re.compile("[\ud800-\udfff]")
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(value: Any) -> Any:
    """For what a person saw (an import): `value` with NUL dropped and each lone surrogate
    shown as U+FFFD, as a browser shows it, in strings, dict keys and lists alike."""
    if isinstance(value, str):
        if UNSTORABLE.search(value) is None:
            return value
        return UNSTORABLE.sub(lambda m: "" if m.group() == "\x00" else "\ufffd", value)
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [storable(v) for v in value]
    return value


def holds_lone_surrogate(value: Any) -> bool:
    """For what a client sends (a request body): refused rather than changed."""
    if isinstance(value, str):
        return LONE_SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(holds_lone_surrogate(k) or holds_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(holds_lone_surrogate(v) for v in value)
    return False


# For what a client sends: a field's pattern that refuses NUL, and the words for half a pair.
NO_NUL = r"^[^\x00]*$"
NOT_TEXT = "a string holds half of a UTF-16 surrogate pair, which is not text"
