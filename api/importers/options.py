"""Settings an import can be given: how to fetch, how to group, which languages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from api.importers.fetch import DEFAULT_POLICY, FetchPolicy
from api.importers.inputs import DEFAULT_LIMITS, Limits

# A transcript language as YouTube names it: de, en, pt-BR, zh-Hans.
LANGUAGE_CODE = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$"


@dataclass(frozen=True)
class ImportOptions:
    fetch: FetchPolicy = DEFAULT_POLICY
    # What a zip may unpack to, a zip fetched from a URL included.
    limits: Limits = DEFAULT_LIMITS
    # Takeout has no conversation id: prompts further apart than this start a new one.
    gemini_gap: timedelta = timedelta(minutes=30)
    # Transcript languages in order of preference; auto-generated ones are used when no
    # manual transcript in these languages exists.
    youtube_languages: tuple[str, ...] = ("en",)
    youtube_auto_generated: bool = True
    # Roughly how long one transcript passage runs, in seconds.
    youtube_passage_seconds: float = 60.0


DEFAULT_OPTIONS = ImportOptions()
