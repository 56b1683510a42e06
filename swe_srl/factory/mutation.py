"""The Mutation record: one injected bug, a few character edits on the original text, so its diff
is as small as the bug; and the helpers the kinds (mutate_expr.py, mutate_stmt.py) build them with.
"""

from __future__ import annotations

import ast
import hashlib
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


def is_docstring(node: ast.AST, body: list[ast.stmt]) -> bool:
    """Whether ``node`` is the docstring statement of the body it belongs to."""
    return (bool(body) and node is body[0] and isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str))
