"""A parsed module: its text, its AST, and the functions in it, with offsets for splicing edits.

Mutations edit the original text in place (a few characters), never re-print the module with
`ast.unparse`, so a bug's diff touches only the line it changes.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Iterator

FUNCTION_NODES = (ast.FunctionDef, ast.AsyncFunctionDef)


@dataclass(frozen=True)
class Function:
    """A function or method: its qualified name as CPython spells `co_qualname`, and its node."""

    qualname: str
    node: ast.FunctionDef | ast.AsyncFunctionDef


class Module:
    """One Python file: text, tree, and (line, UTF-8 column) -> character offset conversion."""

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.text = text
        self.tree = ast.parse(text, filename=path)
        self._lines = text.splitlines(keepends=True)
        self._starts = [0]
        for line in self._lines:
            self._starts.append(self._starts[-1] + len(line))
        self.functions = list(_functions(self.tree))

    def offset(self, lineno: int, col: int) -> int:
        """Character offset of an AST position (1-based line, UTF-8 byte column)."""
        line = self._lines[lineno - 1] if lineno - 1 < len(self._lines) else ""
        return self._starts[lineno - 1] + len(line.encode("utf-8")[:col].decode("utf-8", errors="replace"))

    def start(self, node: ast.AST) -> int:
        return self.offset(node.lineno, node.col_offset)

    def end(self, node: ast.AST) -> int:
        return self.offset(node.end_lineno, node.end_col_offset)

    def segment(self, node: ast.AST) -> str:
        return self.text[self.start(node): self.end(node)]

    def line_start(self, offset: int) -> int:
        return self.text.rfind("\n", 0, offset) + 1

    def line_end(self, offset: int) -> int:
        """Offset just past the newline that ends the line holding ``offset``."""
        end = self.text.find("\n", offset)
        return len(self.text) if end < 0 else end + 1

    def lineno_at(self, offset: int) -> int:
        return self.text.count("\n", 0, offset) + 1

    def owns_lines(self, node: ast.stmt) -> bool:
        """Whether the statement alone fills its lines (no `;` neighbours), so whole lines can go."""
        before = self.text[self.line_start(self.start(node)): self.start(node)]
        after = self.text[self.end(node): self.line_end(self.end(node))]
        return not before.strip() and (not after.strip() or after.strip().startswith("#"))


def _functions(tree: ast.Module) -> Iterator[Function]:
    def walk(body: list[ast.stmt], prefix: str) -> Iterator[Function]:
        for node in body:
            if isinstance(node, FUNCTION_NODES):
                name = prefix + node.name
                yield Function(name, node)
                yield from walk(node.body, name + ".<locals>.")
            elif isinstance(node, ast.ClassDef):
                yield from walk(node.body, prefix + node.name + ".")
            else:  # functions defined under if/try/with at this level keep the same prefix
                for field in ("body", "orelse", "finalbody", "handlers"):
                    inner = getattr(node, field, None)
                    if isinstance(inner, list):
                        yield from walk([n for n in inner if isinstance(n, ast.AST)], prefix)

    yield from walk(tree.body, "")


def own_nodes(function: ast.FunctionDef | ast.AsyncFunctionDef) -> Iterator[ast.AST]:
    """Nodes of a function's body, not descending into nested functions or classes."""
    stack: list[ast.AST] = list(reversed(function.body))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, (*FUNCTION_NODES, ast.ClassDef)):
            continue
        stack.extend(reversed(list(ast.iter_child_nodes(node))))


def own_bodies(function: ast.FunctionDef | ast.AsyncFunctionDef) -> Iterator[list[ast.stmt]]:
    """Every statement list in a function (its body, branches, loops), nested defs excluded."""
    yield function.body
    for node in own_nodes(function):
        if isinstance(node, (*FUNCTION_NODES, ast.ClassDef)):
            continue
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(node, field, None)
            if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
                yield inner
        if isinstance(node, ast.Try):
            for handler in node.handlers:
                yield handler.body
