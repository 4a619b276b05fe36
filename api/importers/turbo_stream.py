"""Decode turbo-stream, the encoding React Router streams loader data in.

The first line is a JSON array of flattened values: index 0 is the root; an object is
{"_<key index>": <value index>}, an array lists value indices, a typed value is an array
that starts with a one-letter tag (["D", ms] a date, ["P", id] a promise, …), negative
numbers stand for null, undefined and the like. Later lines `P<id>:<json>` resolve
promises, their values appended to the same array.
"""

from __future__ import annotations

import json
from typing import Any

from api.errors import ImportFormatError

# Negative indices: constants that need no slot of their own.
CONSTANTS: dict[int, Any] = {
    -1: None,  # hole in an array
    -2: float("nan"),
    -3: float("-inf"),
    -4: -0.0,
    -5: None,  # null
    -6: float("inf"),
    -7: None,  # undefined
}


class _Decoder:
    def __init__(self) -> None:
        self.values: list[Any] = []
        self.promises: dict[int, int] = {}
        self.cache: dict[int, Any] = {}

    def append(self, parsed: Any) -> int:
        """Add one line's values; the index its value starts at."""
        if isinstance(parsed, int) and not isinstance(parsed, bool):
            return parsed  # a reference to a value already sent
        if not isinstance(parsed, list) or not parsed:
            raise ImportFormatError("the page's turbo-stream data is malformed")
        start = len(self.values)
        self.values.extend(parsed)
        return start

    def hydrate(self, index: Any) -> Any:
        if not isinstance(index, int) or isinstance(index, bool):
            raise ImportFormatError("the page's turbo-stream data is malformed")
        if index < 0:
            return CONSTANTS.get(index)
        if index in self.cache:
            return self.cache[index]
        if index >= len(self.values):
            raise ImportFormatError("the page's turbo-stream data refers to a missing value")
        value = self.values[index]
        if isinstance(value, dict):
            obj: dict[str, Any] = {}
            self.cache[index] = obj  # before the children: shared and cyclic references
            for key, child in value.items():
                if not key.startswith("_") or not key[1:].isdigit():
                    raise ImportFormatError("the page's turbo-stream data is malformed")
                name = self.hydrate(int(key[1:]))
                obj[str(name)] = self.hydrate(child)
            return obj
        if isinstance(value, list):
            if value and isinstance(value[0], str):
                return self._typed(index, value)
            items: list[Any] = []
            self.cache[index] = items
            items.extend(self.hydrate(child) for child in value)
            return items
        self.cache[index] = value
        return value

    def _typed(self, index: int, value: list[Any]) -> Any:
        tag = value[0]
        if tag == "P" and len(value) > 1:
            resolved = self.promises.get(value[1])
            return None if resolved is None else self.hydrate(resolved)
        if tag == "Z" and len(value) > 1:
            return self.hydrate(value[1])
        if tag in ("S",):
            return [self.hydrate(child) for child in value[1:]]
        if tag == "M":
            pairs = value[1:]
            return {
                str(self.hydrate(k)): self.hydrate(v)
                for k, v in zip(pairs[::2], pairs[1::2], strict=False)
            }
        if tag == "N" and len(value) > 1 and isinstance(value[1], dict):
            return {str(self.hydrate(int(k[1:]))): self.hydrate(v) for k, v in value[1].items()}
        # Dates, URLs, big integers, symbols, regexps, errors: their payload as it is.
        self.cache[index] = value[1] if len(value) > 1 else None
        return self.cache[index]


def decode(stream: str) -> Any:
    """The value a turbo-stream carries, with the promises it resolves filled in."""
    decoder = _Decoder()
    root: int | None = None
    for line in stream.split("\n"):
        if not line.strip():
            continue
        try:
            if line[0] == "P" and ":" in line and line[1 : line.index(":")].isdigit():
                promise_id, payload = line[1:].split(":", 1)
                decoder.promises[int(promise_id)] = decoder.append(json.loads(payload))
            elif line[0] == "E" and ":" in line:
                continue  # a rejected promise: its value stays empty
            elif root is None:
                root = decoder.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise ImportFormatError(f"the page's turbo-stream data is not JSON: {exc}") from exc
    if root is None:
        raise ImportFormatError("the page's turbo-stream data is empty")
    return decoder.hydrate(root)
