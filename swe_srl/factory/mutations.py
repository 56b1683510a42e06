"""Procedural bugs: the Mutation record, the registry of kinds, and choosing which to try.

Each kind is a small function `kind(module) -> Iterator[Mutation]` (mutate_expr.py,
mutate_stmt.py) that yields every place in the module's functions where it applies. A mutation
is a few character edits on the original text, so its diff is as small as the bug.
"""

from __future__ import annotations

import ast
import hashlib
import random
from collections import defaultdict
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

from swe_srl.factory.source import Function, Module


@dataclass(frozen=True)
class Edit:
    """Replace ``text[start:end]`` with ``new``."""

    start: int
    end: int
    new: str


@dataclass(frozen=True)
class Mutation:
    """One injected bug in one function of one module."""

    kind: str
    path: str  # the module, relative to the repository root
    function: str  # qualified name of the function it lands in (as `co_qualname`)
    lineno: int  # first changed line, 1-based
    description: str  # what changed, for reports (never shown to the agent)
    edits: tuple[Edit, ...]

    def apply(self, text: str) -> str:
        """The module text with the bug in."""
        for edit in sorted(self.edits, key=lambda e: e.start, reverse=True):
            text = text[: edit.start] + edit.new + text[edit.end:]
        return text

    def compiles(self, text: str) -> bool:
        """Whether the buggy module still parses and compiles."""
        try:
            compile(self.apply(text), self.path, "exec", dont_inherit=True)
        except (SyntaxError, ValueError):
            return False
        return True

    def key(self, text: str) -> str:
        """A digest of the buggy text: two mutations with the same key are the same bug."""
        return hashlib.sha256(f"{self.path}\0{self.apply(text)}".encode()).hexdigest()


Kind = Callable[[Module], Iterator[Mutation]]


def make(kind: str, module: Module, function: Function, edits: Iterable[Edit], description: str) -> Mutation:
    """A Mutation of ``module`` inside ``function`` (helper for the kind functions)."""
    edits = tuple(edits)
    first = min(e.start for e in edits)
    return Mutation(kind, module.path, function.qualname, module.lineno_at(first), description, edits)


def kinds() -> dict[str, Kind]:
    """Every mutation kind by name, in a fixed order."""
    from swe_srl.factory import mutate_expr, mutate_stmt

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


def is_docstring(node: ast.AST, body: list[ast.stmt]) -> bool:
    """Whether ``node`` is the docstring statement of the body it belongs to."""
    return (bool(body) and node is body[0] and isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str))
