"""Thread titles without a chat model: the phrase that best names a thread's conversations.

Candidates are the word n-grams (up to three words) of each conversation's title and first
user message that neither cross punctuation nor start or end on a stopword (the language's
list, picked per text by which list it hits most). Chinese and Japanese have no spaces: Han
and kana runs are segmented with jieba (a dictionary plus an HMM for unknown words), and
its part-of-speech tags keep the nouns, so "猫咪不吃猫粮怎么办" offers 猫咪 and 猫粮.

A phrase scores by how many of the thread's conversations use it (a title counts double),
by how few other threads do (inverse thread frequency) and a little by its length, so
"sourdough starter" beats "sourdough" when both are everywhere. A thread of one
conversation is called by that conversation's title."""

from __future__ import annotations

import logging
import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache

import jieba
import jieba.posseg
import stopwordsiso

from api.topics.terms import STOPWORDS

jieba.setLogLevel(logging.WARNING)

MAX_WORDS = 3
MAX_TITLE = 60
# A second phrase joins when the first names at most this share of the thread.
SECOND_PHRASE_BELOW = 0.5
# Languages told apart by their stopwords (stopwordsiso's lists); English uses our own,
# shorter list (stopwordsiso's has "index", "value", "run", "test").
LANGUAGES = ("en", "de", "fr", "es", "it", "pt", "nl", "sv", "da", "no", "fi", "pl", "cs")
_EXTRA_EN = frozenset(
    ("normal", "tips", "fix", "mean", "means", "best", "better", "instead", "way", "ways")
)
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RUN = re.compile(rf"[{_CJK}]+")
# A phrase never spans punctuation (CJK's too); dots, apostrophes and hyphens inside a
# word (setup.py, don't, command-line) are part of it.
_BREAK = re.compile(r"(?:[^\w\s'\u2019+#.-]|(?<!\w)[.'\u2019-]|[.'\u2019-](?!\w))+")
_WORD = re.compile(r"[^\W_](?:[\w'\u2019+#.-]*[\w+#])?")
# jieba's noun-like tags: nouns, names, places, organisations, other proper nouns, verbal
# and adjectival nouns, and Latin words inside Chinese text.
_NOUNS = frozenset(("n", "nr", "nrt", "ns", "nt", "nz", "ng", "nl", "vn", "an", "eng"))


@cache
def _stopwords(language: str) -> frozenset[str]:
    if language == "en":
        return STOPWORDS | _EXTRA_EN
    return frozenset(stopwordsiso.stopwords(language))


@cache
def _languages_of() -> dict[str, tuple[str, ...]]:
    """Each stopword → the languages it is a stopword of (one look-up a word)."""
    index: dict[str, list[str]] = defaultdict(list)
    for lang in LANGUAGES:
        for word in _stopwords(lang):
            index[word].append(lang)
    return {word: tuple(langs) for word, langs in index.items()}


def language(words: Sequence[str]) -> str:
    """The language whose stopwords the words hit most; English on a tie."""
    index = _languages_of()
    hits: Counter[str] = Counter()
    for word in words:
        hits.update(index.get(word.lower(), ()))
    best = max(LANGUAGES, key=lambda lang: (hits[lang], lang == "en"))
    return best if hits[best] > hits["en"] else "en"


def segments(text: str) -> list[list[str]]:
    """The text's runs of content words, in order: a phrase may only be made of
    consecutive words of one run. Latin-script runs break at punctuation and stopwords;
    CJK runs are segmented by jieba and break at anything but a noun."""
    stop = _stopwords(language(_WORD.findall(_CJK_RUN.sub(" ", text))))
    runs: list[list[str]] = []
    for part in _BREAK.split(text):
        pos = 0
        for match in _CJK_RUN.finditer(part):
            runs += _latin_runs(part[pos : match.start()], stop)
            runs += [list(r) for r in _cjk_runs(match.group())]
            pos = match.end()
        runs += _latin_runs(part[pos:], stop)
    return [r for r in runs if r]


def _latin_runs(text: str, stop: frozenset[str]) -> list[list[str]]:
    words = _WORD.findall(text)
    runs: list[list[str]] = [[]]
    for word in words:
        lowered = word.lower()
        if lowered in stop or len(word) < 2 or not any(ch.isalpha() for ch in word):
            runs.append([])
        else:
            runs[-1].append(word)
    return runs


@lru_cache(maxsize=4096)
def _cjk_runs(text: str) -> tuple[tuple[str, ...], ...]:
    """Cached: the worker retitles from the same titles and first messages again and again,
    and tagging is the slow part."""
    runs: list[list[str]] = [[]]
    # Without the HMM for unknown words (its Viterbi pass took most of the time), jieba
    # leaves compounds it does not know in characters (猫 砂 盆): consecutive one-character
    # nouns are one word (猫砂盆), one alone joins the next noun (猫 粮 → 猫粮) and is
    # otherwise dropped, too vague to name a thread.
    pending = ""
    for token in jieba.posseg.cut(text, HMM=False):
        noun = token.flag in _NOUNS
        if noun and len(token.word) == 1:
            pending += token.word
            continue
        if len(pending) >= 2:
            runs[-1].append(pending)
        if noun:
            runs[-1].append(pending + token.word if len(pending) == 1 else token.word)
        else:
            runs.append([])
        pending = ""
    if len(pending) >= 2:
        runs[-1].append(pending)
    return tuple(tuple(r) for r in runs)


def _joined(words: Sequence[str]) -> str:
    """Words back into a phrase: no spaces between CJK words."""
    out = words[0]
    for word in words[1:]:
        cjk = _CJK_RUN.fullmatch(word[:1]) and _CJK_RUN.fullmatch(out[-1:])
        out += word if cjk else " " + word
    return out


def candidates(text: str) -> dict[str, tuple[str, int]]:
    """Every phrase of the text (1 to MAX_WORDS consecutive words of a run): lower-cased
    key → (the phrase as written, its number of words)."""
    found: dict[str, tuple[str, int]] = {}
    for run in segments(text):
        for n in range(1, MAX_WORDS + 1):
            for i in range(len(run) - n + 1):
                phrase = _joined(run[i : i + n])
                found.setdefault(phrase.lower(), (phrase, n))
    return found


@dataclass
class Member:
    """What a thread's title is made from, per conversation."""

    title: str
    first_message: str = ""


def _fold(word: str) -> str:
    """A light plural folding for matching ("runs" and "run", "cerezos" and "cerezo")."""
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss") and word.isalpha():
        return word[:-1]
    return word


@dataclass
class _Thread:
    """Per conversation its phrases (folded key → in its title?), and over the thread how
    each phrase is spelled and how many words it has."""

    phrases: list[dict[str, bool]] = field(default_factory=list)
    spelling: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    words: dict[str, int] = field(default_factory=dict)

    def add(self, member: Member) -> None:
        found: dict[str, bool] = {}
        for text, in_title in ((member.first_message, False), (member.title, True)):
            for lowered, (phrase, n) in candidates(text).items():
                key = " ".join(_fold(w) for w in lowered.split(" "))
                found[key] = found.get(key, False) or in_title
                self.words[key] = n
                # A title's spelling is the one to show ("PyPI", not "pypi").
                self.spelling[key][phrase] += 2 if in_title else 1
        self.phrases.append(found)

    def weight(self, key: str, among: Sequence[dict[str, bool]]) -> float:
        """Conversations using the phrase, those with it in their title half as much again."""
        return sum(1 + 0.5 * found[key] for found in among if key in found)

    def spelled(self, key: str) -> str:
        """The commonest spelling, lower-cased where it is capitalised only because it
        starts a title and is written in lower case elsewhere ("Bond" → "bond")."""
        ways = self.spelling[key]
        best = ways.most_common(1)[0][0]
        lower = best[:1].lower() + best[1:]
        return lower if lower != best and lower in ways else best


def titles(threads: Sequence[Sequence[Member]]) -> list[str]:
    """A short title for each thread (its members), from the phrases that are frequent in
    it and rare in the others; "" for a thread with no words at all."""
    found: list[_Thread] = []
    for members in threads:
        thread = _Thread()
        for member in members:
            thread.add(member)
        found.append(thread)
    spread: Counter[str] = Counter()
    for thread in found:
        spread.update({key for phrases in thread.phrases for key in phrases})
    n = len(threads)
    out = []
    for members, thread in zip(threads, found, strict=True):
        named = [m.title.strip() for m in members if m.title.strip()]
        if len(members) == 1 and named:
            out.append(_shortened(named[0]))
            continue

        def score(key: str, among: Sequence[dict[str, bool]], t: _Thread = thread) -> float:
            rarity = math.log((1 + n) / (1 + spread[key])) + 1
            return t.weight(key, among) * rarity * (1 + 0.25 * (t.words[key] - 1))

        # A phrase of one conversation alone names none of the others: shared ones first.
        keys = sorted(thread.words)
        uses = Counter(k for p in thread.phrases for k in p)
        shared = [k for k in keys if uses[k] >= 2]
        keys = shared or keys
        if not keys:
            out.append(_shortened(named[0]) if named else "")
            continue
        best = max(keys, key=lambda k: score(k, thread.phrases))
        title = thread.spelled(best)
        # A phrase most of the thread does not use names only part of it: the phrase best
        # naming the rest joins it, if the rest share one.
        rest = [p for p in thread.phrases if best not in p]
        if len(rest) >= len(members) * (1 - SECOND_PHRASE_BELOW):
            others = [k for k in keys if not _overlap(k, best) and thread.weight(k, rest) >= 2]
            if others:
                second = max(others, key=lambda k: score(k, rest))
                title = f"{title} & {thread.spelled(second)}"
        out.append(_shortened(title[:1].upper() + title[1:]))
    return out


def _overlap(a: str, b: str) -> bool:
    """Phrases sharing a word (or, for CJK, one inside the other) say the same thing."""
    return bool(set(a.split()) & set(b.split())) or a in b or b in a


def _shortened(title: str) -> str:
    """At most MAX_TITLE characters, cut at a word where there is one."""
    title = " ".join(title.split())
    if len(title) <= MAX_TITLE:
        return title
    cut = title[: MAX_TITLE - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-") + "…"
