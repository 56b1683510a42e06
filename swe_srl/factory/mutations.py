"""Procedural bugs: the registry of kinds, and choosing which to try.

Each kind is a small function `kind(module) -> Iterator[Mutation]` (mutate_expr.py,
mutate_stmt.py) that yields every place in the module's functions where it applies; the Mutation
record they yield is in mutation.py.
"""

from __future__ import annotations

import random
from collections import defaultdict
from typing import Iterable

from swe_srl.factory import mutate_expr, mutate_stmt
from swe_srl.factory.mutation import Kind, Mutation
from swe_srl.factory.source import Module


def kinds() -> dict[str, Kind]:
    """Every mutation kind by name, in a fixed order."""
    return {**mutate_expr.KINDS, **mutate_stmt.KINDS}


def unknown_kinds(names: Iterable[str]) -> str:
    """'' when every name is a mutation kind, else which are not and which are."""
    unknown = set(names) - set(kinds())
    return f"unknown mutation kinds: {sorted(unknown)}; known: {sorted(kinds())}" if unknown else ""


def mutations_for(module: Module, functions: set[str] | None = None,
                  only: Iterable[str] | None = None) -> list[Mutation]:
    """Every mutation of ``module`` that compiles, deduplicated, restricted to ``functions`` if given."""
    chosen = kinds()
    if only is not None:
        if unknown_kinds(only):
            raise ValueError(unknown_kinds(only))
        chosen = {name: fn for name, fn in chosen.items() if name in set(only)}
    seen: set[str] = set()
    found: list[Mutation] = []
    for kind in chosen.values():
        for mutation in kind(module):
            if functions is not None and mutation.function not in functions:
                continue
            if not mutation.compiles(module.text):
                continue
            key = mutation.key(module.text)
            if key not in seen:
                seen.add(key)
                found.append(mutation)
    return found


def balanced_order(mutations: Iterable[Mutation], seed: int = 0) -> list[Mutation]:
    """Round-robin over kinds, each kind's candidates in a stable shuffled order.

    Trying candidates in this order keeps the kinds balanced among the kept tasks, however many
    sites each kind has (comparisons vastly outnumber raises).
    """
    by_kind: dict[str, list[Mutation]] = defaultdict(list)
    for m in mutations:
        by_kind[m.kind].append(m)
    queues = []
    for kind in sorted(by_kind):
        items = sorted(by_kind[kind], key=lambda m: (m.path, m.lineno, m.description, [(e.start, e.end, e.new) for e in m.edits]))
        random.Random(f"{seed}:{kind}").shuffle(items)
        queues.append(items)
    ordered: list[Mutation] = []
    while any(queues):
        for queue in queues:
            if queue:
                ordered.append(queue.pop(0))
    return ordered
