"""YouTube transcripts: the exact requests youtube-transcript-api makes (watch page →
InnerTube player → timedtext XML) replayed from fixtures, language choice, passages with
start times, and clear errors."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from fastapi.testclient import TestClient

from api.db.session import Caller, Connection
from api.http.app import create_app
from api.importers.detect import parse
from api.importers.inputs import Input, UrlItem
from api.importers.model import Conversation, ItemError, Parsed
from api.importers.options import DEFAULT_OPTIONS, ImportOptions
from api.importers.youtube import video_id
from tests.conftest import FIXTURES, SAMPLES
from tests.test_api import auth, make_settings

YOUTUBE = FIXTURES / "youtube"
VIDEO = "kN1fE7wH3tQ"
URL = f"https://www.youtube.com/watch?v={VIDEO}"
API_KEY = "AIzaSyKnitterTestsFakeInnertubeKey01234"


def player() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((YOUTUBE / "player.json").read_text(encoding="utf-8"))
    return data


def caption_tracks(response: dict[str, Any]) -> list[dict[str, Any]]:
    renderer = response.get("captions", {}).get("playerCaptionsTracklistRenderer", {})
    tracks: list[dict[str, Any]] = renderer.get("captionTracks", [])
    return tracks


def replay_youtube(router: respx.MockRouter, response: dict[str, Any] | None = None) -> None:
    """The three requests youtube-transcript-api 1.x makes, answered from the fixtures."""
    response = player() if response is None else response
    router.get("https://www.youtube.com/watch", params={"v": VIDEO}).mock(
        return_value=httpx.Response(
            200,
            text=(YOUTUBE / "watch.html").read_text(encoding="utf-8"),
            headers={"content-type": "text/html; charset=utf-8"},
        )
    )

    def innertube(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        assert body["videoId"] == VIDEO and body["context"]["client"]["clientName"]
        return httpx.Response(200, json=response)

    router.post("https://www.youtube.com/youtubei/v1/player", params={"key": API_KEY}).mock(
        side_effect=innertube
    )
    for track in caption_tracks(response):
        name = "timedtext-en-asr.xml" if track.get("kind") == "asr" else "timedtext-de.xml"
        router.get(track["baseUrl"].replace("&fmt=srv3", "")).mock(
            return_value=httpx.Response(
                200,
                text=(YOUTUBE / name).read_text(encoding="utf-8"),
                headers={"content-type": "text/xml; charset=UTF-8"},
            )
        )


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as mock:
        yield mock


def fetch_one(url: str, options: ImportOptions = DEFAULT_OPTIONS) -> Parsed:
    [item] = list(parse(UrlItem(url), options))
    return item


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (f"https://www.youtube.com/watch?v={VIDEO}&t=42s", VIDEO),
        (f"https://youtube.com/watch?feature=share&v={VIDEO}", VIDEO),
        (f"https://m.youtube.com/watch?v={VIDEO}", VIDEO),
        (f"https://youtu.be/{VIDEO}?si=Xy12", VIDEO),
        (f"https://www.youtube.com/shorts/{VIDEO}", VIDEO),
        (f"https://www.youtube.com/live/{VIDEO}?feature=share", VIDEO),
        (f"https://www.youtube.com/embed/{VIDEO}", VIDEO),
        (f"https://www.youtube-nocookie.com/embed/{VIDEO}?start=3", VIDEO),
        ("https://www.youtube.com/watch?v=short", None),
        ("https://www.youtube.com/@edgeandgrain", None),
        (f"https://vimeo.com/{VIDEO}", None),
    ],
)
def test_video_urls(url: str, expected: str | None) -> None:
    assert video_id(url) == expected


def test_transcript_passages_keep_their_start_times(router: respx.MockRouter) -> None:
    replay_youtube(router)
    video = fetch_one(f"https://youtu.be/{VIDEO}")
    assert isinstance(video, Conversation)
    assert (video.kind, video.platform, video.url, video.external_id) == (
        "youtube",
        "youtube",
        URL,
        VIDEO,
    )
    assert video.title == "Sharpening a kitchen knife on a whetstone"
    assert video.metadata["channel"] == "Edge & Grain"
    assert video.metadata["duration"] == 154
    # No manual English transcript: the auto-generated one is used.
    assert (video.metadata["language_code"], video.metadata["auto_generated"]) == ("en", True)
    starts = [m.metadata["start"] for m in video.messages]
    assert starts == [0.0, 63.2, 133.7]
    assert all(m.role == "speaker" for m in video.messages)
    assert video.messages[0].text.startswith("hi everyone today we're sharpening a chef's knife")
    assert "now flip the knife" in video.messages[1].text


def test_language_preference_picks_a_manual_transcript_first(router: respx.MockRouter) -> None:
    replay_youtube(router)
    video = fetch_one(URL, ImportOptions(youtube_languages=("de", "en")))
    assert isinstance(video, Conversation)
    assert (video.metadata["language_code"], video.metadata["auto_generated"]) == ("de", False)
    assert video.messages[0].text.startswith("Hallo zusammen")


def test_without_auto_generated_transcripts_another_language_is_used(
    router: respx.MockRouter,
) -> None:
    replay_youtube(router)
    video = fetch_one(URL, ImportOptions(youtube_auto_generated=False))
    assert isinstance(video, Conversation) and video.metadata["language_code"] == "de"


def test_a_video_without_captions_is_a_clear_error(router: respx.MockRouter) -> None:
    response = player()
    del response["captions"]
    replay_youtube(router, response)
    error = fetch_one(URL)
    assert isinstance(error, ItemError) and error.item == URL
    assert "no transcript" in error.message and "disabled" in error.message.lower()


def test_an_unavailable_video_is_a_clear_error(router: respx.MockRouter) -> None:
    response = {
        "playabilityStatus": {"status": "ERROR", "reason": "This video is unavailable"},
        "videoDetails": {"videoId": VIDEO},
    }
    replay_youtube(router, response)
    error = fetch_one(URL)
    assert isinstance(error, ItemError) and "no longer available" in error.message


def test_a_broken_transcript_response_is_a_clear_error(router: respx.MockRouter) -> None:
    response = player()
    replay_youtube(router, response)
    for track in caption_tracks(response):
        router.get(track["baseUrl"].replace("&fmt=srv3", "")).mock(
            return_value=httpx.Response(200, text="<transcript><text start='x'>")
        )
    error = fetch_one(URL, ImportOptions(youtube_languages=("de",)))
    assert isinstance(error, ItemError) and "not readable" in error.message


@pytest.mark.skipif(not SAMPLES.exists(), reason="../shared/samples is not present")
def test_real_player_response_and_transcript_xml(router: respx.MockRouter) -> None:
    """The real InnerTube response's caption tracks and a real timedtext XML."""
    response = json.loads(
        (SAMPLES / "youtube" / "youtube-transcript-api-ww1_nl_en.innertube.json").read_text()
    )
    real_id = response["videoDetails"]["videoId"]
    router.get("https://www.youtube.com/watch", params={"v": real_id}).mock(
        return_value=httpx.Response(200, text=(YOUTUBE / "watch.html").read_text())
    )
    router.post("https://www.youtube.com/youtubei/v1/player").mock(
        return_value=httpx.Response(200, json=response)
    )
    xml = Path(SAMPLES / "youtube" / "youtube-transcript-api-transcript.xml").read_text()
    for track in caption_tracks(response):
        router.get(track["baseUrl"].replace("&fmt=srv3", "")).mock(
            return_value=httpx.Response(200, text=xml)
        )
    video = fetch_one(f"https://www.youtube.com/watch?v={real_id}")
    assert isinstance(video, Conversation)
    assert video.title == response["videoDetails"]["title"]
    assert video.metadata["channel"] == "The Great War"
    assert video.metadata["auto_generated"] is False  # the manual English track first
    [passage] = video.messages
    assert passage.text == (
        "Hey, this is just a test this is not the original transcript"
        " just something shorter, I made up for testing"
    )
    assert passage.metadata == {"start": 0.0, "end": 8.9}


def test_api_url_imports_take_the_transcript_languages(
    router: respx.MockRouter, db_url: str, conn: Connection, make_user: Callable[[], Caller]
) -> None:
    """`languages` of POST /v1/imports reaches the importer: German when asked for first,
    else the English (auto-generated) default; a malformed code is a 422."""
    replay_youtube(router)
    me = make_user()
    with TestClient(create_app(make_settings(db_url))) as client:
        for extra, expected in (({"languages": ["de", "en"]}, "de"), ({}, "en")):
            response = client.post("/v1/imports", json={"urls": [URL], **extra}, headers=auth(me))
            assert response.status_code == 202, response.text
            job = client.get(f"/v1/imports/{response.json()['id']}", headers=auth(me)).json()
            assert job["status"] == "succeeded" and job["failed"] == 0, job
            row = conn.execute(
                "select metadata->>'language_code' as code from public.sources"
                " where workspace_id = %s and external_id = %s",
                [job["workspace_id"], VIDEO],
            ).fetchone()
            assert row is not None and row["code"] == expected
        refused = client.post(
            "/v1/imports", json={"urls": [URL], "languages": ["en; drop"]}, headers=auth(me)
        )
        assert refused.status_code == 422


@pytest.mark.parametrize(
    "path",
    [
        YOUTUBE / "player.json",
        pytest.param(
            SAMPLES / "youtube" / "youtube-transcript-api-ww1_nl_en.innertube.json",
            marks=pytest.mark.skipif(not SAMPLES.exists(), reason="needs ../shared/samples"),
        ),
    ],
)
def test_a_saved_player_response_says_to_import_the_videos_address(path: Path) -> None:
    """A saved player response links to the transcript (by addresses that expire) but
    holds none of it: the person is told what to import instead, not "JSON in a shape
    knitter does not know"."""
    data = path.read_bytes()
    video = json.loads(data)["videoDetails"]["videoId"]
    [failed] = list(parse(Input(path.name, data)))
    assert isinstance(failed, ItemError)
    assert failed.message == (
        "a YouTube player response: it links to the video's transcript but does not hold it;"
        f" import the video's address instead (https://www.youtube.com/watch?v={video})"
    )
