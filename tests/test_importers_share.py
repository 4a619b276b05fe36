"""ChatGPT share links: both page encodings, the real sample, fetching and round trip."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import respx

from api.errors import ImportFormatError
from api.importers import turbo_stream
from api.importers.detect import parse
from api.importers.inputs import Input, UrlItem
from api.importers.model import Conversation, ItemError
from api.importers.share import parse_share_page, share_id
from tests.conftest import FIXTURES, SAMPLES

SHARES = FIXTURES / "chatgpt-share"
REACT_ROUTER = SHARES / "share-react-router.html"
NEXT_DATA = SHARES / "share-next-data.html"
BASIL_ID = "6770a2f4-5e1c-8000-a3b1-2c4d5e6f7a8b"
HOUSEPLANT_ID = "3f6b9a52-8c1d-4e7a-b2f0-9d8c7b6a5e4f"


def page(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def test_react_router_stream_page() -> None:
    basil = parse_share_page(page(REACT_ROUTER))
    assert (basil.kind, basil.platform, basil.title) == (
        "chatgpt_share",
        "chatgpt",
        "Basil on a dark windowsill",
    )
    assert basil.external_id == BASIL_ID
    assert basil.url == f"https://chatgpt.com/share/{BASIL_ID}"
    assert [m.role for m in basil.messages] == ["user", "assistant", "user", "assistant"]
    assert [m.model for m in basil.messages] == [None, "gpt-4o", None, "gpt-4o"]
    assert basil.messages[3].text.endswith("instead of seeds.")  # citation marker removed
    assert basil.metadata["conversation_id"] == "6770a0c1-0000-8000-9000-00000000b0b0"
    assert basil.started_at is not None and basil.started_at.year == 2024


def test_next_data_page() -> None:
    plant = parse_share_page(page(NEXT_DATA))
    assert (plant.title, plant.external_id) == ("First houseplant", HOUSEPLANT_ID)
    assert plant.messages[1].text.startswith("A ZZ plant or a snake plant")
    assert plant.messages[1].model == "text-davinci-002-render-sha"


REMIX_ID = "6601e2c4-7a3b-4c5d-9e8f-0a1b2c3d4e5f"


def test_remix_context_page_of_2024() -> None:
    """window.__remixContext, the share route's loader data: a conversation, not a page."""
    [monstera] = list(parse(Input("shared.html", (SHARES / "share-remix-2024.html").read_bytes())))
    assert isinstance(monstera, Conversation)
    assert (monstera.kind, monstera.title, monstera.external_id) == (
        "chatgpt_share",
        "Repotting a monstera",
        REMIX_ID,
    )
    assert monstera.messages[0].text == "When should I repot a monstera deliciosa?"
    assert [m.role for m in monstera.messages] == ["user", "assistant"]


@respx.mock
def test_a_share_url_serving_the_remix_page_is_the_conversation() -> None:
    url = f"https://chatgpt.com/share/{REMIX_ID}"
    respx.get(url).mock(
        return_value=httpx.Response(
            200,
            content=(SHARES / "share-remix-2024.html").read_bytes(),
            headers={"content-type": "text/html; charset=utf-8"},
        )
    )
    [shared] = list(parse(UrlItem(url)))
    assert isinstance(shared, Conversation) and shared.kind == "chatgpt_share"
    assert shared.url == url and shared.external_id == REMIX_ID


def test_a_share_page_that_cannot_be_read_is_an_error_not_a_web_page() -> None:
    shell = SHARES / "share-shell-unreadable.html"
    [outcome] = list(parse(Input("saved-share.html", shell.read_bytes())))
    assert isinstance(outcome, ItemError), outcome
    assert "holds no shared conversation" in outcome.message


@pytest.mark.skipif(not SAMPLES.exists(), reason="../shared/samples is not present")
def test_real_react_router_share_page() -> None:
    sample = SAMPLES / "chatgpt-share" / "searchts-chatgpt-share-reactrouter.html"
    [shared] = list(parse(Input(str(sample), sample.read_bytes())))
    assert isinstance(shared, Conversation)
    assert shared.title == "きから始まる言葉"
    assert shared.external_id == "67a4266c-dbcc-800f-9b92-f0a8a6480e16"
    assert shared.messages[0].text == "「き」から始まる7文字の言葉を挙げて"
    assert [m.role for m in shared.messages] == ["user", "assistant"] * 3
    assert {m.model for m in shared.messages if m.role == "assistant"} == {"gpt-4o"}


@pytest.mark.parametrize(
    ("html", "message"),
    [
        ("<html><body><p>Log in to ChatGPT</p></body></html>", "no shared conversation"),
        (
            '<script>window.__reactRouterContext.streamController.enqueue("[{\\"_1\\":2},'
            '\\"loaderData\\",{}]\\n");</script>',
            "holds no conversation",
        ),
        (
            '<script>window.__reactRouterContext.streamController.enqueue("[{\\"_1\\":9}]");'
            "</script>",
            "missing value",
        ),
        ('<script id="__NEXT_DATA__" type="application/json">{"props": </script>', "not JSON"),
        (
            '<script id="__NEXT_DATA__" type="application/json">{"props":{"pageProps":{}}}'
            "</script><!-- serverResponse -->",
            "holds no conversation",
        ),
    ],
)
def test_pages_without_a_conversation_give_clear_errors(html: str, message: str) -> None:
    with pytest.raises(ImportFormatError, match=message):
        parse_share_page(html)


def test_turbo_stream_decoding() -> None:
    stream = "\n".join(
        [
            json.dumps(
                [
                    {"_1": 2, "_3": -5, "_4": 5, "_6": 7, "_8": 2},
                    "a",
                    "shared",
                    "nothing",
                    "when",
                    ["D", 1700000000000],
                    "later",
                    ["P", 7],
                    "again",
                ]
            ),
            "P7:[[10],42]",
        ]
    )
    assert turbo_stream.decode(stream) == {
        "a": "shared",
        "nothing": None,
        "when": 1700000000000,
        "later": [42],
        "again": "shared",
    }


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (f"https://chatgpt.com/share/{BASIL_ID}", BASIL_ID),
        (f"https://chat.openai.com/share/{BASIL_ID}/", BASIL_ID),
        (f"https://chatgpt.com/share/{BASIL_ID}?utm_source=x", BASIL_ID),
        ("https://chatgpt.com/c/6770a2f4-5e1c-8000", None),
        ("https://example.com/share/6770a2f4-5e1c-8000", None),
    ],
)
def test_share_link_recognition(url: str, expected: str | None) -> None:
    assert share_id(url) == expected


@respx.mock
def test_share_links_are_fetched_and_failures_are_per_item() -> None:
    respx.get(f"https://chatgpt.com/share/{BASIL_ID}").mock(
        return_value=httpx.Response(
            200, text=page(REACT_ROUTER), headers={"content-type": "text/html; charset=utf-8"}
        )
    )
    respx.get(f"https://chat.openai.com/share/{HOUSEPLANT_ID}").mock(
        return_value=httpx.Response(
            301, headers={"location": f"https://chatgpt.com/share/{HOUSEPLANT_ID}"}
        )
    )
    respx.get(f"https://chatgpt.com/share/{HOUSEPLANT_ID}").mock(
        return_value=httpx.Response(200, text=page(NEXT_DATA))
    )
    missing = "00000000-dead-4000-8000-000000000000"
    respx.get(f"https://chatgpt.com/share/{missing}").mock(return_value=httpx.Response(404))
    [basil] = list(parse(UrlItem(f"https://chatgpt.com/share/{BASIL_ID}")))
    [plant] = list(parse(UrlItem(f"https://chat.openai.com/share/{HOUSEPLANT_ID}")))
    [gone] = list(parse(UrlItem(f"https://chatgpt.com/share/{missing}")))
    assert isinstance(basil, Conversation) and basil.title == "Basil on a dark windowsill"
    assert isinstance(plant, Conversation) and plant.external_id == HOUSEPLANT_ID
    assert isinstance(gone, ItemError) and "404" in gone.message
