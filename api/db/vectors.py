"""pgvector's text form, '[0.1,0.2,…]': how vectors go into and come out of SQL."""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg
from psycopg.adapt import Dumper
from psycopg.pq import Format
from psycopg.types import TypeInfo

Vectors = npt.NDArray[np.float64]


def vector_literal(values: Iterable[float]) -> str:
    """A vector as pgvector reads it (repr keeps every float exactly)."""
    return "[" + ",".join(repr(float(v)) for v in values) + "]"


def parse_vector(text: str) -> Vectors:
    """A vector as pgvector writes it (`embedding::text`)."""
    return np.asarray(json.loads(text), dtype=np.float64)


class Vector:
    """A vector to send in pgvector's binary form (see register_vector): 4 bytes a
    dimension instead of ~20 characters of text, and no float parsing on the server."""

    __slots__ = ("values",)

    def __init__(self, values: Iterable[float]) -> None:
        self.values = np.asarray(values, dtype=">f4")


class _VectorBinaryDumper(Dumper):
    # pgvector's vector_recv: uint16 dimensions, uint16 unused, then big-endian float4s.
    format = Format.BINARY

    def dump(self, obj: Vector) -> bytes:
        return struct.pack(">HH", obj.values.shape[0], 0) + obj.values.tobytes()


def register_vector(conn: psycopg.Connection[Any]) -> None:
    """Teach this connection to send Vector values (and lists of them, as vector[]) in
    binary. The type's oid differs per database: looked up once per connection."""
    if conn.adapters.types.get("vector") is not None:
        return
    info = TypeInfo.fetch(conn, "extensions.vector")
    if info is None:
        raise RuntimeError("the vector type (pgvector) is not installed")
    info.register(conn)
    dumper = type("VectorBinaryDumper", (_VectorBinaryDumper,), {"oid": info.oid})
    conn.adapters.register_dumper(Vector, dumper)
