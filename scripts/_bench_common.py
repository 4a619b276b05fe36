"""Shared helpers of the benchmark scripts: the embedded server, databases, percentiles,
plain-text tables, and generated text whose words cluster by topic."""

from __future__ import annotations

import contextlib
import os
import platform
import random
import struct
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg

# The scripts run as `python scripts/bench_*.py` from the repository root or anywhere else.
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from api.db.embedded import EmbeddedPostgres  # noqa: E402
from api.db.migrate import migrate  # noqa: E402
from api.db.session import connect  # noqa: E402

DEFAULT_HOME = Path("/tmp/knitter-bench")  # noqa: S108 (a benchmark scratch directory)

# --- the server ------------------------------------------------------------------------


@dataclass
class Server:
    pg: EmbeddedPostgres
    url: str

    def database_url(self, name: str) -> str:
        return self.url.rsplit("/", 1)[0] + f"/{name}"

    def stop(self) -> None:
        """Stop the server if this process started it (never someone else's)."""
        if self.pg.started_here:
            self.pg.stop()


def start_server(home: Path, settings: dict[str, str], port: int | None = None) -> Server:
    """Start (or reuse) the embedded server in home/pgdata with these server settings.

    EmbeddedPostgres takes no extra `-c` options, so the settings go in with ALTER SYSTEM
    (postgresql.auto.conf of this data directory only) and a server we started is restarted
    when one of them needs it (shared_buffers)."""
    pg = EmbeddedPostgres(home / "pgdata", port)
    url = pg.start()
    with psycopg.connect(url, autocommit=True) as admin:
        restart = False
        for name, value in settings.items():
            row = admin.execute(
                "select setting, unit, context from pg_settings where name = %s", [name]
            ).fetchone()
            if row is None:
                raise SystemExit(f"unknown server setting {name}")
            admin.execute(f"alter system set {name} = '{value}'")
            if row[2] == "postmaster":
                current = admin.execute(f"show {name}").fetchone()
                restart = restart or (current is not None and current[0] != value)
        admin.execute("select pg_reload_conf()")
    if restart:
        if not pg.started_here:
            print(
                "warning: the server was already running; settings that need a restart"
                " are not in effect yet",
                file=sys.stderr,
            )
        else:
            pg.stop()
            url = pg.start()
    return Server(pg, url)


def fresh_database(server: Server, name: str) -> str:
    """Drop and create a database, migrate it with the real migrations; return its URL."""
    with psycopg.connect(server.url, autocommit=True) as admin:
        admin.execute(f'drop database if exists "{name}" with (force)')
        admin.execute(f'create database "{name}"')
    url = server.database_url(name)
    with connect(url) as conn:
        conn.autocommit = True
        migrate(conn)
    return url


def drop_database(server: Server, name: str) -> None:
    with psycopg.connect(server.url, autocommit=True) as admin:
        admin.execute(f'drop database if exists "{name}" with (force)')


# --- bulk loading ------------------------------------------------------------------------

COPY_BLOCK = 20_000


def copy_embeddings(
    cur: psycopg.Cursor[Any],
    ids: npt.NDArray[np.int64],
    model_id: int,
    workspace_ids: npt.NDArray[np.void],
    vectors: npt.NDArray[np.float32],
) -> None:
    """COPY BINARY (chunk_id, model_id, workspace_id, embedding) rows into
    public.chunk_embeddings: workspace_ids holds each row's workspace uuid as 16 bytes
    (dtype V16). Binary COPY of numpy records is ~10x faster than text vectors."""
    dims = vectors.shape[1]
    record = np.dtype(
        [
            ("nfields", ">i2"),
            ("l1", ">i4"),
            ("id", ">i8"),
            ("l2", ">i4"),
            ("model", ">i4"),
            ("l3", ">i4"),
            ("ws", "V16"),
            ("l4", ">i4"),
            ("dim", ">i2"),
            ("unused", ">i2"),
            ("vec", ">f4", (dims,)),
        ]
    )
    with cur.copy(
        "copy public.chunk_embeddings (chunk_id, model_id, workspace_id, embedding)"
        " from stdin (format binary)"
    ) as copy:
        copy.write(b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0))
        for lo in range(0, len(ids), COPY_BLOCK):
            hi = min(len(ids), lo + COPY_BLOCK)
            out = np.zeros(hi - lo, dtype=record)
            out["nfields"] = 4
            out["l1"] = 8
            out["id"] = ids[lo:hi]
            out["l2"] = 4
            out["model"] = model_id
            out["l3"] = 16
            out["ws"] = workspace_ids[lo:hi]
            out["l4"] = 4 + 4 * dims
            out["dim"] = dims
            out["vec"] = vectors[lo:hi]
            copy.write(out.tobytes())
        copy.write(struct.pack(">h", -1))


# --- arguments ---------------------------------------------------------------------------


def int_list(text: str) -> list[int]:
    """An argparse type: "1_000,10000" -> [1000, 10000]."""
    return [int(x.replace("_", "")) for x in text.split(",") if x]


def float_list(text: str) -> list[float]:
    """An argparse type: "0.2,0.3" -> [0.2, 0.3]."""
    return [float(x) for x in text.split(",") if x]


# --- numbers and tables ------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """Linear-interpolated percentile (numpy's default method), 0 <= p <= 100."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table; numbers right-aligned."""
    cells = [[str(h) for h in header], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]

    def line(row: Sequence[str], is_header: bool = False) -> str:
        out = []
        for i, cell in enumerate(row):
            numeric = not is_header and _numeric(cell)
            out.append(cell.rjust(widths[i]) if numeric else cell.ljust(widths[i]))
        return "  ".join(out).rstrip()

    lines = [title, line(cells[0], True), "  ".join("-" * w for w in widths)]
    lines += [line(r) for r in cells[1:]]
    return "\n".join(lines) + "\n"


def _numeric(cell: str) -> bool:
    try:
        float(cell.replace(",", "").rstrip("%x"))
    except ValueError:
        return False
    return True


def size_mb(n_bytes: int) -> str:
    return f"{n_bytes / 2**20:.1f}"


def machine_description() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 2**20:.0f} GiB RAM"
                break
    except OSError:
        pass
    load = ""
    with contextlib.suppress(OSError):
        load = "load " + " ".join(Path("/proc/loadavg").read_text().split()[:3])
    kernel = platform.release()
    return f"{os.cpu_count()} CPUs ({cpu}), {mem}, Linux {kernel}, {load}"


def pg_version(url: str) -> str:
    with psycopg.connect(url) as c:
        version = c.execute("show server_version").fetchone()
        vector = c.execute(
            "select default_version from pg_available_extensions where name = 'vector'"
        ).fetchone()
    return f"PostgreSQL {version[0] if version else '?'}, pgvector {vector[0] if vector else '?'}"


def git_revision() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return "?"
    return out.stdout.strip() or "?"


# --- generated text ----------------------------------------------------------------------


def _w(words: str) -> list[str]:
    return words.split()


# Topics people talk to an assistant about; each a vocabulary of nouns, verbs and adjectives.
TOPICS: dict[str, tuple[list[str], list[str], list[str]]] = {
    "baking": (
        _w(
            "sourdough starter flour crumb crust oven loaf yeast dough proofing basket levain"
            " hydration rye scoring steam banneton"
        ),
        _w("knead proof bake feed fold shape score rest"),
        _w("sour dense airy crusty sticky bubbly"),
    ),
    "cycling": (
        _w(
            "derailleur chain cassette crank saddle tyre brake pads spokes gear cadence climb"
            " handlebar pedals inner tube"
        ),
        _w("shift pedal patch adjust lube climb brake inflate"),
        _w("flat loose worn squeaky stiff smooth"),
    ),
    "python": (
        _w(
            "function decorator generator exception module package virtualenv import list"
            " dictionary iterator coroutine asyncio typing dataclass"
        ),
        _w("refactor import raise iterate await annotate install debug"),
        _w("async typed mutable slow recursive lazy"),
    ),
    "postgres": (
        _w(
            "index query planner vacuum replica transaction table schema migration sequence"
            " trigger partition constraint deadlock tablespace"
        ),
        _w("analyze vacuum migrate index partition replicate lock rollback"),
        _w("slow bloated concurrent stale missing sequential"),
    ),
    "gardening": (
        _w(
            "tomato basil compost mulch seedling soil aphids trellis pruning watering raised bed"
            " fertilizer greenhouse cuttings roots"
        ),
        _w("prune water sow transplant mulch harvest fertilize repot"),
        _w("wilting leggy yellow organic shady fertile"),
    ),
    "travel": (
        _w(
            "passport visa itinerary hostel flight layover luggage train ferry museum"
            " reservation currency insurance terminal jetlag"
        ),
        _w("book pack cancel explore fly reserve exchange commute"),
        _w("delayed cheap crowded scenic remote overnight"),
    ),
    "finance": (
        _w(
            "budget mortgage savings index fund pension dividend tax return invoice expenses"
            " interest rate brokerage portfolio inflation"
        ),
        _w("invest save refinance deduct rebalance budget borrow withdraw"),
        _w("fixed variable taxable diversified monthly volatile"),
    ),
    "fitness": (
        _w(
            "squat deadlift treadmill marathon stretching protein workout interval sets reps"
            " kettlebell hamstring recovery calories plank"
        ),
        _w("lift stretch sprint train recover warm jog squat"),
        _w("sore sustainable intense aerobic lean heavy"),
    ),
    "music": (
        _w(
            "guitar chord scale piano metronome rhythm melody harmony amplifier pedalboard"
            " arpeggio tempo fretboard orchestra symphony"
        ),
        _w("strum practice compose tune record improvise transpose rehearse"),
        _w("minor major syncopated acoustic distorted harmonic"),
    ),
    "parenting": (
        _w(
            "toddler bedtime tantrum daycare homework allowance screen time lunchbox nap"
            " teething preschool sibling routine playground"
        ),
        _w("soothe encourage negotiate schedule praise supervise read comfort"),
        _w("cranky curious stubborn gentle consistent sleepy"),
    ),
    "cooking": (
        _w(
            "risotto broth garlic skillet marinade spices curry noodles braise stock sauce"
            " knife onion recipe seasoning"
        ),
        _w("simmer saute roast chop marinate season braise whisk"),
        _w("spicy savory crispy tender smoky bland"),
    ),
    "javascript": (
        _w(
            "promise closure component react hook bundler webpack typescript npm module"
            " callback event listener dom render state"
        ),
        _w("bundle render await debounce transpile mount fetch memoize"),
        _w("reactive stale undefined asynchronous nested immutable"),
    ),
    "home repair": (
        _w(
            "faucet drywall grout caulk circuit breaker outlet hinge plumbing leak shingle"
            " insulation ladder drill thermostat"
        ),
        _w("patch seal replace drill tighten rewire insulate sand"),
        _w("leaky damp loose cracked drafty rusty"),
    ),
    "writing": (
        _w(
            "novel chapter outline character dialogue plot draft editor manuscript query"
            " letter publisher narrative protagonist scene"
        ),
        _w("draft revise outline publish edit pitch rewrite submit"),
        _w("compelling vivid tense clunky concise poetic"),
    ),
    "health": (
        _w(
            "migraine allergy prescription vaccine symptoms blood pressure cholesterol sleep"
            " apnea vitamin insomnia dentist checkup"
        ),
        _w("diagnose treat prescribe monitor sleep rest hydrate vaccinate"),
        _w("chronic mild acute seasonal persistent dizzy"),
    ),
    "machine learning": (
        _w(
            "embedding transformer gradient tokenizer dataset overfitting epoch loss"
            " attention fine tuning inference checkpoint benchmark classifier"
        ),
        _w("train tokenize evaluate quantize embed fine-tune batch regularize"),
        _w("noisy sparse dense pretrained multilingual biased"),
    ),
    "pets": (
        _w(
            "puppy kitten litter leash vet kibble grooming crate fleas collar aquarium"
            " hamster parrot treats"
        ),
        _w("groom walk feed train adopt vaccinate brush neuter"),
        _w("playful anxious shedding hungry timid loyal"),
    ),
    "cars": (
        _w(
            "engine tyres oil change battery transmission brakes coolant alternator spark"
            " plugs windshield mileage dealership warranty"
        ),
        _w("tow repair inspect lease rotate jump-start service refuel"),
        _w("noisy used electric hybrid overheating reliable"),
    ),
    "career": (
        _w(
            "resume interview salary promotion manager recruiter offer negotiation portfolio"
            " feedback meeting deadline colleague mentor"
        ),
        _w("apply negotiate resign interview delegate mentor present network"),
        _w("remote senior junior toxic flexible ambitious"),
    ),
    "linux": (
        _w(
            "kernel systemd cron shell terminal package permissions ssh firewall partition"
            " bootloader container docker filesystem daemon"
        ),
        _w("mount compile configure reboot grep pipe chmod install"),
        _w("headless broken verbose minimal encrypted root"),
    ),
    "photography": (
        _w(
            "aperture shutter lens tripod exposure histogram sensor raw lightroom bokeh"
            " portrait landscape flash composition"
        ),
        _w("expose focus frame edit shoot crop develop zoom"),
        _w("blurry overexposed sharp grainy wide telephoto"),
    ),
    "language learning": (
        _w(
            "vocabulary grammar flashcards pronunciation conjugation accent immersion tutor"
            " podcast subtitles fluency idioms spanish japanese"
        ),
        _w("memorize practise conjugate translate pronounce listen review speak"),
        _w("fluent irregular formal colloquial native tricky"),
    ),
    "chess": (
        _w(
            "opening gambit endgame bishop knight rook pawn castle checkmate tactics rating"
            " blunder tournament sicilian"
        ),
        _w("castle sacrifice promote defend attack develop pin resign"),
        _w("positional aggressive passive doubled isolated winning"),
    ),
    "astronomy": (
        _w(
            "telescope nebula galaxy planet eclipse constellation orbit meteor comet"
            " eyepiece star chart moon saturn jupiter"
        ),
        _w("observe align track photograph collimate magnify orbit gaze"),
        _w("faint bright cloudy lunar distant visible"),
    ),
}
TOPIC_NAMES = list(TOPICS)

TEMPLATES = [
    "I tried to {v} the {n1} with more {n2}, but it still feels {a}.",
    "How do I {v} a {a} {n1} when the {n2} is not ready?",
    "The {n1} was {a} again, so I had to {v} the {n2} twice.",
    "Why does my {n1} get {a} after I {v} the {n2}?",
    "Can you explain how the {n2} affects the {n1} if I {v} it every week?",
    "My {a} {n1} needs a better {n2}; what is the best way to {v} it?",
    "Yesterday I started to {v} the {n1}, and the {n2} turned {a}.",
    "Is it normal for the {n1} to be {a} when you {v} the {n2}?",
    "A checklist to {v} the {n1}: check the {n2}, keep it {a}, then repeat.",
    "What should I {v} first, the {n1} or the {n2}, if both look {a}?",
]
QUERY_TEMPLATES = [
    "how to {v} a {a} {n1}",
    "{n1} {a} after {n2}",
    "fix {a} {n1} {n2}",
    "best way to {v} {n2}",
    "why is my {n1} {a}",
    "{v} {n1} and {n2}",
]


def sentence(rng: random.Random, topic: str, templates: Sequence[str] = TEMPLATES) -> str:
    nouns, verbs, adjectives = TOPICS[topic]
    n1, n2 = rng.sample(nouns, 2)
    return rng.choice(templates).format(n1=n1, n2=n2, v=rng.choice(verbs), a=rng.choice(adjectives))


def paragraph(rng: random.Random, topic: str, sentences: int) -> str:
    return " ".join(sentence(rng, topic) for _ in range(sentences))
