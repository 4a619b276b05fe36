"""Words, sentences and TF-IDF: what the offline fallbacks (extractive answers and
summaries, thread titles without a chat model) are made of."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

# fmt: off
STOPWORDS = frozenset((
    "a", "about", "above", "after", "again", "all", "also", "am", "an", "and", "any", "are",
    "as", "at", "be", "because", "been", "before", "being", "below", "between", "both", "but",
    "by", "can", "could", "did", "do", "does", "doing", "don", "down", "during", "each",
    "either", "else", "etc", "even", "ever", "every", "few", "first", "for", "from", "get",
    "gets", "getting", "give", "given", "go", "going", "good", "got", "great", "had", "has",
    "have", "having", "he", "her", "here", "hers", "him", "his", "how", "however", "i", "if",
    "in", "into", "is", "it", "its", "just", "know", "last", "least", "less", "let", "like",
    "likely", "make", "makes", "making", "many", "may", "me", "might", "more", "most", "much",
    "must", "my", "need", "needs", "new", "no", "not", "now", "of", "off", "often", "on",
    "once", "one", "only", "or", "other", "our", "out", "over", "own", "please", "really",
    "same", "see", "she", "should", "since", "so", "some", "still", "such", "sure", "take",
    "than", "thank", "thanks", "that", "the", "their", "them", "then", "there", "these",
    "they", "thing", "things", "think", "this", "those", "though", "through", "to", "too",
    "two", "under", "until", "up", "us", "use", "used", "uses", "using", "very", "want",
    "was", "way", "we", "well", "were", "what", "when", "where", "whether", "which", "while",
    "who", "whom", "why", "will", "with", "within", "without", "would", "yes", "yet", "you",
    "your", "yours",
))
# fmt: on
WORD = re.compile(r"[^\W\d_][\w'-]*[^\W_]|[^\W\d_]", re.UNICODE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


# Longer "words" are hashes, base64 and the like, not terms.
MAX_WORD = 30


def words(text: str) -> list[str]:
    """Lower-cased words of 3 to 30 letters, stopwords and numbers left out."""
    return [w for w in WORD.findall(text.lower()) if 2 < len(w) <= MAX_WORD and w not in STOPWORDS]


def sentences(text: str, min_words: int = 3) -> list[str]:
    """The text's sentences (and lines), list markers stripped, short fragments dropped."""
    found = []
    for sentence in _SENTENCE_END.split(text):
        sentence = sentence.strip(" -*#>\t")
        if len(WORD.findall(sentence)) >= min_words:
            found.append(sentence)
    return found


def idf(documents: Sequence[Counter[str]]) -> dict[str, float]:
    """Smoothed inverse document frequency, so a term in every document still counts."""
    df: Counter[str] = Counter()
    for doc in documents:
        df.update(doc.keys())
    n = len(documents)
    return {term: math.log((1 + n) / (1 + count)) + 1 for term, count in df.items()}


def tfidf(doc: Counter[str], weights: dict[str, float]) -> dict[str, float]:
    """Sub-linear term frequency times idf."""
    return {t: (1 + math.log(c)) * weights.get(t, 1.0) for t, c in doc.items()}


def top_terms(scores: dict[str, float], k: int) -> list[str]:
    """The k best-scoring terms (ties broken alphabetically, so results are stable)."""
    return [t for t, _ in sorted(scores.items(), key=lambda ts: (-ts[1], ts[0]))[:k]]


def distinctive_terms(documents: Sequence[str], k: int = 6) -> list[list[str]]:
    """For each document, the k terms that set it apart from the others (TF-IDF)."""
    counts = [Counter(words(doc)) for doc in documents]
    weights = idf(counts)
    return [top_terms(tfidf(doc, weights), k) for doc in counts]


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    dot = math.fsum(v * b.get(t, 0.0) for t, v in a.items())
    norm = math.sqrt(math.fsum(v * v for v in a.values()))
    norm *= math.sqrt(math.fsum(v * v for v in b.values()))
    return dot / norm if norm else 0.0


def central_sentences(text: str, k: int = 3, diversity: float = 0.3) -> list[str]:
    """Centroid-based extractive summary: the sentences closest (TF-IDF cosine) to the text
    as a whole, each new pick penalised by its likeness to those already picked (maximal
    marginal relevance), returned in reading order. A sentence said more than once is
    picked once."""
    found = list(dict.fromkeys(sentences(text, min_words=5)))
    counts = [Counter(words(s)) for s in found]
    weights = idf(counts)
    vectors = [tfidf(c, weights) for c in counts]
    centroid = tfidf(sum(counts, Counter()), weights)
    relevance = [cosine(v, centroid) for v in vectors]
    picked: list[int] = []
    candidates = [i for i, v in enumerate(vectors) if v]
    while candidates and len(picked) < k:

        def score(i: int) -> float:
            overlap = max((cosine(vectors[i], vectors[j]) for j in picked), default=0.0)
            return (1 - diversity) * relevance[i] - diversity * overlap

        best = max(candidates, key=score)
        picked.append(best)
        candidates.remove(best)
    return [found[i] for i in sorted(picked)]
