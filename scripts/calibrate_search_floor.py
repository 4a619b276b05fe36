"""Calibrates the relevance floor of meaning-only search matches with the local model.

A labelled set: the 30 conversations of tests/fixtures/topic_corpus.json as passages, one
paraphrased query per conversation that shares few words with it (relevant), and queries
that nothing in the corpus answers (gibberish and off-topic questions). Prints, for each
group, the cosine similarity of the best passage (relevant: of the labelled passage) and
the floor that separates them: `python scripts/calibrate_search_floor.py`, or for the
static model `python scripts/calibrate_search_floor.py static-all-MiniLM-L6-v2`.

It also prints the model's calibration for hybrid_search (embedding_models.
similarity_unrelated and similarity_relevant): the median cosine of a relevant query to
every passage of the other conversations (unrelated), and the relevant group's median. They
put each model's cosine on one scale (0 unrelated, 1 a typical answer), so passages matched
through different models are ranked in one list.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

from api.embeddings.registry import get_model

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "topic_corpus.json"

# One query per conversation, in the corpus's order (topic, then conversation).
RELEVANT = {
    "sourdough": [
        "my bread culture has a strange chemical odour",
        "why is the inside of my bread heavy and wet",
        "how much water for a first loaf",
        "adding whole grain to my levain",
        "loaves come out flat without rise",
    ],
    "coffee": [
        "my morning shot is acidic and watery",
        "how many grams of grounds per cup for filter brewing",
        "keeping roasted grains from going stale",
        "steeping grounds overnight in the fridge",
        "frothing for a flat white is bubbly",
    ],
    "kubernetes": [
        "container restarts again and again in the cluster",
        "ship a new release to the cluster with no outage",
        "workloads killed for running out of RAM",
        "certificates for my cluster's web entry point",
        "updated settings object but containers keep the old config",
    ],
    "packaging": [
        "modern build config file for a library instead of the old script",
        "upload my library so others can pip install it",
        "should my library require exact versions of what it needs",
        "packages end up in the global interpreter, not my project",
        "make my library put a terminal command on the path",
    ],
    "running": [
        "training schedule for a 42 km race in four months",
        "pain on the side of the joint after long jogs",
        "what to eat and drink while racing 26 miles",
        "my slow jogs are too fast",
        "reducing mileage in the weeks before the big race",
    ],
    "houseplants": [
        "swiss cheese plant foliage going pale",
        "my indoor tree loses foliage after moving it",
        "when to move my sansevieria into a bigger pot",
        "small insects flying around the soil of my plants",
        "growing new plants from cuttings of my devil's ivy",
    ],
}

GIBBERISH = [
    "asdkjh qwpeoiru zmxncb",
    "xkcd zzqv plorp",
    "lorem ipsum dolor sit amet",
    "qqqq wwww eeee",
    "blorft snarf wibble",
    "ghjkl",
    "zxcvbnm asdfgh",
    "fnord",
    "aaaaaaaaaaaa",
    "jfkdls ieowp",
]
OFF_TOPIC = [
    "what is the capital of Peru",
    "how do I change a flat car tyre",
    "best chess opening for beginners",
    "who won the 1998 world cup",
    "how to file taxes as a freelancer",
    "explain quantum entanglement simply",
    "knitting a scarf with two colours",
    "cheap flights to Lisbon in May",
]


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def main() -> None:
    topics = json.loads(CORPUS.read_text())["topics"]
    texts: list[str] = []
    owner: list[tuple[str, int]] = []
    for topic, conversations in topics.items():
        for i, conversation in enumerate(conversations):
            for message in conversation["messages"]:
                texts.append(message)
                owner.append((topic, i))
    model = get_model("local", sys.argv[1] if len(sys.argv) > 1 else "all-MiniLM-L6-v2")
    passages = model.embed(texts, "document")

    def best(query: str, target: tuple[str, int] | None = None) -> float:
        vector = model.embed([query], "query")[0]
        return max(
            cosine(vector, p) for p, o in zip(passages, owner, strict=True) if target in (None, o)
        )

    def unrelated(query: str, target: tuple[str, int]) -> list[float]:
        vector = model.embed([query], "query")[0]
        return [cosine(vector, p) for p, o in zip(passages, owner, strict=True) if o != target]

    groups = {
        "relevant": [
            best(q, (topic, i)) for topic, qs in RELEVANT.items() for i, q in enumerate(qs)
        ],
        "gibberish": [best(q) for q in GIBBERISH],
        "off-topic": [best(q) for q in OFF_TOPIC],
        "unrelated": [
            c
            for topic, qs in RELEVANT.items()
            for i, q in enumerate(qs)
            for c in unrelated(q, (topic, i))
        ],
    }
    for name, values in groups.items():
        print(
            f"{name:10} n={len(values):4} min={min(values):.3f} "
            f"median={statistics.median(values):.3f} max={max(values):.3f}"
        )
    print(
        f"calibration: similarity_unrelated={statistics.median(groups['unrelated']):.3f}"
        f" similarity_relevant={statistics.median(groups['relevant']):.3f}"
    )


if __name__ == "__main__":
    main()
