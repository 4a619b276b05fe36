"""Thread titles without a chat model (api.topics.phrases): phrases, not stems; CJK text
segmented into words; the threads of the labelled corpora named by their topic."""

from __future__ import annotations

import json

import pytest

from api.topics import phrases
from api.topics.phrases import Member
from tests.conftest import FIXTURES


def members(name: str) -> dict[str, list[Member]]:
    topics = json.loads((FIXTURES / name).read_text())["topics"]
    return {
        topic: [Member(item["title"], item["messages"][0]) for item in items]
        for topic, items in topics.items()
    }


def test_phrases_stop_at_punctuation_and_stopwords() -> None:
    text = "Should my Python library use pyproject.toml instead of setup.py? Yes, command-line."
    assert phrases.segments(text) == [
        ["Python", "library"],
        ["pyproject.toml"],
        ["setup.py"],
        ["command-line"],
    ]
    assert set(phrases.candidates("Rolling update without downtime")) == {
        "rolling",
        "update",
        "rolling update",
        "downtime",
    }


def test_each_language_has_its_stopwords() -> None:
    assert phrases.language(["Wie", "flicke", "ich", "einen", "Platten"]) == "de"
    assert phrases.language(["Comment", "faire", "une", "pâte", "brisée"]) == "fr"
    assert phrases.language(["Dónde", "alojarse", "en", "Kioto", "durante", "el", "viaje"]) == "es"
    assert phrases.segments("Wie flicke ich einen Platten am Fahrradschlauch?") == [
        ["flicke"],
        ["Platten"],
        ["Fahrradschlauch"],
    ]


def test_chinese_is_segmented_into_words_and_keeps_the_nouns() -> None:
    # No spaces: jieba finds the words; verbs and particles (不吃, 怎么办) end a phrase.
    assert phrases.segments("猫咪不吃猫粮怎么办") == [["猫咪"], ["猫粮"]]
    assert phrases.segments("幼猫疫苗接种时间") == [["幼猫", "疫苗"], ["时间"]]
    # jieba leaves 猫砂盆 in pieces (猫 砂盆): the one-character noun joins the next.
    assert phrases.segments("猫砂盆的摆放位置") == [["猫砂盆"]]
    assert "幼猫疫苗" in phrases.candidates("幼猫疫苗接种时间")
    # Latin words inside Chinese text are words of their own.
    assert phrases.segments("Rust 的 borrow checker") == [["Rust"], ["borrow", "checker"]]


def test_the_corpus_topics_get_their_names() -> None:
    threads = members("topic_corpus.json")
    titled = dict(zip(threads, phrases.titles(list(threads.values())), strict=True))
    assert titled["sourdough"] == "Sourdough"
    assert titled["coffee"] == "Coffee"
    assert titled["kubernetes"] == "Kubernetes"
    assert titled["running"] == "Marathon"
    for title in titled.values():
        assert " · " not in title and 0 < len(title) <= phrases.MAX_TITLE

    # Two topics in one thread: neither phrase names most of it, so both are said.
    merged = [threads["sourdough"] + threads["coffee"], *list(threads.values())[2:]]
    assert phrases.titles(merged)[0] == "Sourdough & coffee"


def test_multilingual_and_chinese_threads() -> None:
    threads = members("topic_corpus_multilingual.json")
    titled = dict(zip(threads, phrases.titles(list(threads.values())), strict=True))
    assert titled["cats_zh"] == "猫咪"
    assert titled["travel_es"] == "Japón"
    assert titled["guitar"] == "Guitar" and titled["piano"] == "Piano"
    assert titled["bicycle_de"].startswith("Fahrrad")


def test_rarity_decides_between_equally_common_phrases() -> None:
    # "error" is in every thread, "lifetime" in one: the rare one names its thread.
    rust = [Member("Lifetime error", "A lifetime error in Rust"), Member("Lifetime", "error")]
    other = [Member("Error in CSS", "error"), Member("Flexbox error", "error")]
    assert phrases.titles([rust, other])[0].startswith("Lifetime")


def test_spelling_and_length() -> None:
    # Written "Bond" only where it starts a title, "bond" elsewhere: the second phrase
    # is shown in lower case; "PyPI" keeps its capitals.
    thread = [
        Member("Bond fund losses", "Why did it fall?"),
        Member("Rates", "What happens to my bond fund?"),
        Member("ETF fees", "What do ETF fees mean for a bond fund?"),
        Member("Publishing to PyPI", "How do I publish to PyPI?"),
        Member("PyPI tokens", "Where do PyPI tokens go?"),
        Member("PyPI names", "Is my name free on PyPI?"),
    ]
    assert phrases.titles([thread, [Member("x", "y"), Member("z", "w")]])[0] == ("PyPI & bond fund")
    # One conversation: its own title, cut at a word.
    long = "A very long conversation title that goes on and on about many different things"
    (title,) = phrases.titles([[Member(long, "")]])
    assert title.endswith("…") and len(title) <= phrases.MAX_TITLE
    assert long.startswith(title[:-1])
    assert phrases.titles([[Member("", "")], [Member("", "?"), Member("", "")]]) == ["", ""]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("setup.py instead of setup.cfg", [["setup.py"], ["setup.cfg"]]),
        ("C++ and C# tips", [["C++"], ["C#"]]),
        ("E0597: borrowed value", [["E0597"], ["borrowed", "value"]]),
    ],
)
def test_code_words_stay_whole(text: str, words: list[list[str]]) -> None:
    assert phrases.segments(text) == words
