"""YouTube videos (youtube.com/watch?v=, youtu.be/, /shorts/, /live/, /embed/): the
transcript, by youtube-transcript-api, in passages of about a minute that keep their start
time (message metadata {"start": seconds}) so a result can link to &t=<seconds>.

youtube-transcript-api speaks `requests`; its session here sends every request through
knitter's own fetcher (http(s) only, time and size bounded, no private addresses), which
also lets the video's title and channel be read from the player response it fetches.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.etree.ElementTree import ParseError

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from youtube_transcript_api import (
    CouldNotRetrieveTranscript,
    FetchedTranscript,
    NoTranscriptFound,
    Transcript,
    TranscriptList,
    YouTubeTranscriptApi,
)

# The library's own timedtext parser: a saved transcript file reads as a fetched one.
from youtube_transcript_api._transcripts import _TranscriptParser

from api.errors import ImportFormatError
from api.importers.fetch import FetchError, FetchPolicy, fetch
from api.importers.model import Conversation, Message
from api.importers.options import ImportOptions

VIDEO_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
HOSTS = {
    "youtube.com", "www.youtube.com", "m.youtube.com", "music.youtube.com",
    "www.youtube-nocookie.com", "youtube-nocookie.com",
}  # fmt: skip
PATH_FORMS = ("/shorts/", "/live/", "/embed/", "/v/")
PLAYER_PATH = "/youtubei/v1/player"


def video_id(url: str) -> str | None:
    """The 11-character id of a YouTube video URL, or None for any other URL."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    candidate: str | None = None
    if host in ("youtu.be", "www.youtu.be"):
        candidate = parts.path.strip("/").split("/")[0]
    elif host in HOSTS:
        if parts.path == "/watch":
            candidate = next(iter(parse_qs(parts.query).get("v") or []), None)
        else:
            for prefix in PATH_FORMS:
                if parts.path.startswith(prefix):
                    candidate = parts.path[len(prefix) :].split("/")[0]
    return candidate if candidate and VIDEO_ID.match(candidate) else None


@dataclass
class FetcherAdapter(BaseAdapter):
    """A requests transport that fetches with importers.fetch and keeps the player response."""

    policy: FetchPolicy
    player: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__()

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        body = request.body
        content = body.encode() if isinstance(body, str) else body
        fetched = fetch(
            str(request.url),
            self.policy,
            method=str(request.method or "GET"),
            headers={k: v for k, v in request.headers.items() if isinstance(v, str)},
            content=content if isinstance(content, bytes) else None,
        )
        response = requests.Response()
        response.status_code = fetched.status
        response._content = fetched.content
        response.headers = CaseInsensitiveDict(dict(fetched.headers.items()))
        response.url = fetched.url
        response.request = request
        response.encoding = "utf-8"
        response.reason = ""
        if PLAYER_PATH in fetched.url and fetched.status == 200:
            try:
                player = json.loads(fetched.content)
            except (ValueError, UnicodeDecodeError):
                player = None
            if isinstance(player, dict):
                self.player = player
        return response

    def close(self) -> None:
        pass


def fetch_video(url: str, options: ImportOptions) -> Conversation:
    identifier = video_id(url)
    if identifier is None:
        raise ImportFormatError(f"not a YouTube video URL: {url}")
    adapter = FetcherAdapter(options.fetch)
    session = requests.Session()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    try:
        transcripts = YouTubeTranscriptApi(http_client=session).list(identifier)
        transcript = _choose(transcripts, options)
        fetched = transcript.fetch()
    except FetchError as exc:
        raise ImportFormatError(str(exc)) from exc
    except CouldNotRetrieveTranscript as exc:
        cause = (exc.cause or type(exc).__name__).strip().splitlines()[0]
        raise ImportFormatError(f"no transcript for video {identifier}: {cause}") from exc
    except (ParseError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise ImportFormatError(f"YouTube's answer for {identifier} is not readable") from exc
    finally:
        session.close()
    return transcript_conversation(identifier, fetched, adapter.player, options)


def _choose(transcripts: TranscriptList, options: ImportOptions) -> Transcript:
    """A manual transcript in a preferred language, else an auto-generated one (if allowed),
    else whatever transcript there is, manual first."""
    languages = list(options.youtube_languages)
    try:
        return transcripts.find_manually_created_transcript(languages)
    except NoTranscriptFound:
        pass
    if options.youtube_auto_generated:
        try:
            return transcripts.find_generated_transcript(languages)
        except NoTranscriptFound:
            pass
    available = [t for t in transcripts if options.youtube_auto_generated or not t.is_generated]
    if not available:
        raise NoTranscriptFound(transcripts.video_id, languages, transcripts)
    return available[0]


def transcript_conversation(
    identifier: str,
    transcript: FetchedTranscript,
    player: Mapping[str, Any],
    options: ImportOptions,
) -> Conversation:
    details = player.get("videoDetails")
    details = details if isinstance(details, dict) else {}
    title = details.get("title") if isinstance(details.get("title"), str) else None
    channel = details.get("author") if isinstance(details.get("author"), str) else None
    messages = _passages(transcript, options.youtube_passage_seconds)
    if not messages:
        raise ImportFormatError(f"the transcript of video {identifier} is empty")
    metadata: dict[str, Any] = {
        "video_id": identifier,
        "language": transcript.language,
        "language_code": transcript.language_code,
        "auto_generated": transcript.is_generated,
    }
    if channel:
        metadata["channel"] = channel
    if isinstance(details.get("channelId"), str):
        metadata["channel_id"] = details["channelId"]
    if isinstance(details.get("lengthSeconds"), str) and details["lengthSeconds"].isdigit():
        metadata["duration"] = int(details["lengthSeconds"])
    return Conversation(
        kind="youtube",
        platform="youtube",
        title=title or f"YouTube video {identifier}",
        messages=messages,
        url=f"https://www.youtube.com/watch?v={identifier}",
        external_id=identifier,
        metadata=metadata,
    )


def _passages(transcript: FetchedTranscript, seconds: float) -> list[Message]:
    messages: list[Message] = []
    texts: list[str] = []
    start = end = 0.0
    for snippet in transcript.snippets:
        text = " ".join(snippet.text.split())
        if not text:
            continue
        if texts and snippet.start - start >= seconds:
            messages.append(_passage(texts, start, end))
            texts = []
        if not texts:
            start = snippet.start
        texts.append(text)
        end = max(end, snippet.start + snippet.duration)
    if texts:
        messages.append(_passage(texts, start, end))
    return messages


def _passage(texts: list[str], start: float, end: float) -> Message:
    return Message(
        role="speaker",
        text=" ".join(texts),
        metadata={"start": round(start, 1), "end": round(end, 1)},
    )


TIMEDTEXT_START = re.compile(rb"^\s*(<\?xml[^>]*\?>\s*)?<transcript[\s>]")


def looks_like_timedtext(data: bytes) -> bool:
    """A YouTube timedtext transcript (`<transcript><text start=… dur=…>`), as saved by
    youtube-transcript-api or a browser."""
    return TIMEDTEXT_START.match(data[:512].lstrip(b"\xef\xbb\xbf")) is not None


def saved_player_video(data: Any) -> str | None:
    """The video of a saved InnerTube player response (what youtube.com sends its player,
    and what this importer fetches). It links to the transcripts, by addresses that
    expire, but holds none of their text: the video's address is what to import."""
    if not isinstance(data, dict) or "playabilityStatus" not in data:
        return None
    details = data.get("videoDetails")
    found = details.get("videoId") if isinstance(details, dict) else None
    return found if isinstance(found, str) and VIDEO_ID.fullmatch(found) else None


def parse_timedtext(data: bytes, name: str, options: ImportOptions) -> Conversation:
    """A saved timedtext file: passages by time, as for a fetched transcript; the video is
    unknown, so the file name is its title."""
    try:
        snippets = _TranscriptParser().parse(data.decode("utf-8"))
    except (ParseError, UnicodeDecodeError, ValueError, KeyError):
        raise ImportFormatError(f"{name}: not a readable YouTube transcript") from None
    stem = PurePath(name).stem or name
    transcript = FetchedTranscript(
        snippets=snippets, video_id=stem, language="", language_code="", is_generated=False
    )
    messages = _passages(transcript, options.youtube_passage_seconds)
    if not messages:
        raise ImportFormatError(f"{name}: the transcript is empty")
    return Conversation(
        kind="youtube",
        platform="youtube",
        title=stem,
        messages=messages,
        metadata={"file_name": PurePath(name).name},
    )
