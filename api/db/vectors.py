"""pgvector's text form, '[0.1,0.2,…]': how vectors go into and come out of SQL."""

from __future__ import annotations

import json
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float64]


def vector_literal(values: Iterable[float]) -> str:
    """A vector as pgvector reads it (repr keeps every float exactly)."""
    return "[" + ",".join(repr(float(v)) for v in values) + "]"


def parse_vector(text: str) -> Vectors:
    """A vector as pgvector writes it (`embedding::text`)."""
    return np.asarray(json.loads(text), dtype=np.float64)
