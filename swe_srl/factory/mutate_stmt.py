"""Mutation kinds on statements: a dropped `else` branch, a removed guard, a removed statement."""

from __future__ import annotations

import ast
from typing import Iterator

from swe_srl.factory.mutation import Edit, Mutation, is_docstring, make
from swe_srl.factory.source import Module, own_bodies

# Simple statements whose removal changes behaviour without leaving an empty block behind.
_REMOVABLE = (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr, ast.Delete)


def _remove_lines(module: Module, node: ast.stmt) -> Edit:
    """Delete the whole lines a statement occupies (its indentation and newline included)."""
    return Edit(module.line_start(module.start(node)), module.line_end(module.end(node)), "")


def drop_if_branch(module: Module) -> Iterator[Mutation]:
    """An `if` keeps its body but loses its `else` / `elif` branches."""
    for fn in module.functions:
        for body in own_bodies(fn.node):
            for node in body:
                if not isinstance(node, ast.If) or not node.orelse:
                    continue
                if not module.owns_lines(node.orelse[-1]) or not module.owns_lines(node.body[-1]):
                    continue
                start = module.line_end(module.end(node.body[-1]))
                end = module.line_end(module.end(node.orelse[-1]))
                branch = "elif" if len(node.orelse) == 1 and isinstance(node.orelse[0], ast.If) \
                    and module.text[module.line_start(start):].lstrip().startswith("elif") else "else"
                yield make("drop_if_branch", module, fn, [Edit(start, end, "")], f"dropped the `{branch}` branch")


def remove_early_return(module: Module) -> Iterator[Mutation]:
    """A guard `if cond: ... return x` that is not the last statement of its block, removed."""
    for fn in module.functions:
        for body in own_bodies(fn.node):
            for node in body[:-1]:
                if isinstance(node, ast.If) and not node.orelse and isinstance(node.body[-1], ast.Return) \
                        and module.owns_lines(node):
                    yield make("remove_early_return", module, fn, [_remove_lines(module, node)],
                               "removed an early return")


def remove_statement(module: Module) -> Iterator[Mutation]:
    """One simple statement (an assignment, a call) removed from a block that keeps others."""
    for fn in module.functions:
        for body in own_bodies(fn.node):
            real = [n for n in body if not is_docstring(n, body)]
            if len(real) < 2:
                continue
            for node in real:
                if not isinstance(node, _REMOVABLE) or not module.owns_lines(node):
                    continue
                if isinstance(node, ast.Expr) and not isinstance(node.value, (ast.Call, ast.Await)):
                    continue  # a bare name or a string: removing it changes nothing
                if isinstance(node, ast.AnnAssign) and node.value is None:
                    continue
                text = module.segment(node).splitlines()[0]
                yield make("remove_statement", module, fn, [_remove_lines(module, node)], f"removed `{text.strip()}`")


KINDS = {
    "drop_if_branch": drop_if_branch,
    "remove_early_return": remove_early_return,
    "remove_statement": remove_statement,
}
