"""Branches of a conversation tree (ChatGPT's `mapping`, Claude's `parent_message_uuid`):
the branch the person last saw, and every other version they could page through.

Edits and regenerations are siblings: children of one parent. The tree is cut into paths:
the current one (root to the current leaf) and, for each sibling it did not take, a path
from that sibling down its newest children. Every node is on exactly one path. Each other
path is kept as an alternative of the current-branch message it stands in for (the first
message its sibling on the parent path leads to), numbered "version k of n" as ChatGPT's
"< k/n >" control does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from api.importers.model import Message

# A runaway export (or a hostile file) must not turn into an unbounded walk.
MAX_NODES = 200_000


@dataclass(frozen=True)
class Path:
    nodes: list[str]
    # Where it forks off: the parent path's number and the position on it of the node this
    # path's first node is a sibling of; None for the current path.
    parent: int | None = None
    at: int = 0
    sibling: int = 0  # position among its siblings (0-based)
    siblings: int = 1
    # At each fork along this path: the position among its siblings of the node it took.
    taken: dict[int, int] = field(default_factory=dict)


def paths(
    current: Sequence[str],
    children: Callable[[str | None], Sequence[str]],
    parent: Callable[[str], str | None],
) -> list[Path]:
    """The current path first, then every other path, parents before their forks.
    children(None) are the roots; parent(id) is None for a root."""
    out = [Path(list(current))]
    seen = set(current)
    queue = 0
    while queue < len(out) and len(seen) < MAX_NODES:
        path, number = out[queue], queue
        queue += 1
        for position, node in enumerate(path.nodes):
            # A path's first node was reached from its own fork; its siblings are handled there.
            if position == 0 and path.parent is not None:
                continue
            siblings = list(children(parent(node) if position else None))
            if len(siblings) < 2 or node not in siblings:
                continue
            path.taken[position] = siblings.index(node)
            for index, sibling in enumerate(siblings):
                if sibling in seen:
                    continue
                nodes = _descend(sibling, children, seen)
                out.append(Path(nodes, number, position, index, len(siblings)))
    return out


def _descend(
    node: str, children: Callable[[str | None], Sequence[str]], seen: set[str]
) -> list[str]:
    """From node down its newest (last) children: what ChatGPT shows under a version."""
    nodes = []
    while node not in seen and len(seen) < MAX_NODES:
        seen.add(node)
        nodes.append(node)
        below = [c for c in children(node) if c not in seen]
        if not below:
            break
        node = below[-1]
    return nodes


def kept_versions(
    tree: list[Path], read: Callable[[list[str]], list[list[Message]]]
) -> tuple[list[Message], list[Message]]:
    """The current branch's messages and the alternatives', read path by path (read gives
    each node's messages). An alternative's metadata says which message it is a version of
    (`alternative_of`, a message index: the current branch is numbered 0…n-1, alternatives
    n… in path order), its `branch` (path number) and, on a version's first message,
    `version` and `versions`; the current message a version stands in for carries its own
    `version` and `versions`."""
    current: list[Message] = []
    alternatives: list[Message] = []
    # Per path: the combined message index of each node's first message at or after it,
    # and of the last message before it.
    starts: list[list[int | None]] = []
    befores: list[list[int | None]] = []
    # Anchor message index -> [(fork position, sibling position, first message index or
    # None for the anchor itself)]
    groups: dict[int, list[tuple[int, int, int | None]]] = {}
    path_anchor: dict[int, int] = {}
    first_of_path: dict[int, int] = {}
    first_anchor: dict[int, int] = {}  # a version's first message index -> its anchor
    pending: list[tuple[int, list[Message]]] = []  # alternatives before numbering

    for number, path in enumerate(tree):
        per_node = read(path.nodes)
        node_first: list[int | None] = []
        local: list[Message] = []
        for messages in per_node:
            node_first.append(len(local) if messages else None)
            local.extend(messages)
        if number == 0:
            base = 0
            current = local
        else:
            parent_starts, parent_befores = starts[path.parent or 0], befores[path.parent or 0]
            at = path.at
            anchor = parent_starts[at] if at < len(parent_starts) else None
            if anchor is None and at < len(parent_befores):
                anchor = parent_befores[at]
            # A fork right at another version's first message is one more version of the
            # same place, not a version of that version.
            while anchor is not None and anchor in first_anchor:
                anchor = first_anchor[anchor]
            if anchor is None or not local:
                # A version that says nothing (a hidden node): what forks below it is a
                # version of the same place.
                starts.append([anchor] * len(path.nodes))
                befores.append([anchor] * len(path.nodes))
                continue
            base = len(current) + sum(len(messages) for _, messages in pending)
            pending.append((number, local))
            path_anchor[number] = anchor
            first_of_path[number] = base
            first_anchor[base] = anchor
            group = groups.setdefault(anchor, [])
            if not group:
                # The version the anchor itself is: the sibling its parent path took.
                group.append((at, tree[path.parent or 0].taken.get(at, 0), None))
            group.append((at, path.sibling, base))
        # Indexes in the combined numbering, looking forward and back along the path.
        forward: list[int | None] = [None] * len(path.nodes)
        following: int | None = None
        for position in range(len(path.nodes) - 1, -1, -1):
            if node_first[position] is not None:
                following = base + (node_first[position] or 0)
            forward[position] = following
        backward: list[int | None] = [None] * len(path.nodes)
        last: int | None = None
        count = 0
        for position, messages in enumerate(per_node):
            backward[position] = last
            count += len(messages)
            if messages:
                last = base + count - 1
        starts.append(forward)
        befores.append(backward)

    numbered: dict[int, tuple[int, int]] = {}  # first message index -> (version, versions)
    for anchor, group in groups.items():
        group.sort(key=lambda g: (g[0], g[1]))
        for version, (_, _, first) in enumerate(group, start=1):
            numbered[anchor if first is None else first] = (version, len(group))
    current = [_numbered(m, i, numbered) for i, m in enumerate(current)]
    for number, local in pending:
        base = first_of_path[number]
        for offset, message in enumerate(local):
            index = base + offset
            extra: dict[str, Any] = {"alternative_of": path_anchor[number], "branch": number}
            message = replace(message, metadata={**message.metadata, **extra})
            alternatives.append(_numbered(message, index, numbered))
    return current, alternatives


def _numbered(message: Message, index: int, numbered: Mapping[int, tuple[int, int]]) -> Message:
    if index not in numbered:
        return message
    version, versions = numbered[index]
    return replace(message, metadata={**message.metadata, "version": version, "versions": versions})
