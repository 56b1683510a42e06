"""Mutation kinds on expressions: operators, constants, call arguments, defaults, exceptions."""

from __future__ import annotations

import ast
import re
from typing import Iterator

from swe_srl.factory.mutation import Edit, Mutation, make
from swe_srl.factory.source import Module, own_nodes

# Each comparison is flipped to its boundary or negated twin: (pattern of its text, replacement).
_COMPARE = {
    ast.Lt: (r"<(?!=)", "<="), ast.LtE: (r"<=", "<"), ast.Gt: (r">(?!=)", ">="), ast.GtE: (r">=", ">"),
    ast.Eq: (r"==", "!="), ast.NotEq: (r"!=", "=="), ast.Is: (r"\bis\b", "is not"),
    ast.IsNot: (r"\bis\s+not\b", "is"), ast.In: (r"\bin\b", "not in"), ast.NotIn: (r"\bnot\s+in\b", "in"),
}
# Arithmetic swaps, each to an operator that gives another number of the same kind.
_ARITH = {
    ast.Add: (r"\+", "-"), ast.Sub: (r"-", "+"), ast.Mult: (r"(?<!\*)\*(?!\*)", "/"),
    ast.Div: (r"(?<!/)/(?!/)", "*"), ast.FloorDiv: (r"//", "%"), ast.Mod: (r"%", "//"),
    ast.LShift: (r"<<", ">>"), ast.RShift: (r">>", "<<"), ast.BitAnd: (r"&", "|"), ast.BitOr: (r"\|", "&"),
}
# Builtin exceptions, each to a sibling that an `except` or `pytest.raises` of the first misses.
_EXCEPTIONS = {
    "ValueError": "TypeError", "TypeError": "ValueError", "KeyError": "IndexError",
    "IndexError": "KeyError", "AttributeError": "TypeError", "RuntimeError": "ValueError",
    "NotImplementedError": "RuntimeError", "ZeroDivisionError": "ValueError", "LookupError": "ValueError",
}


def _op_edit(module: Module, left: ast.AST, right: ast.AST, pattern: str, new: str) -> Edit | None:
    """Replace the operator found between two operands (parentheses and spaces may surround it)."""
    start, end = module.end(left), module.start(right)
    match = re.search(pattern, module.text[start:end])
    if match is None:
        return None
    return Edit(start + match.start(), start + match.end(), new)


def _is_text(node: ast.AST) -> bool:
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)))


def flip_comparison(module: Module) -> Iterator[Mutation]:
    """`<` to `<=`, `==` to `!=`, `in` to `not in`, and back."""
    for fn in module.functions:
        for node in own_nodes(fn.node):
            if not isinstance(node, ast.Compare):
                continue
            operands = [node.left, *node.comparators]
            for i, op in enumerate(node.ops):
                pattern, new = _COMPARE[type(op)]
                edit = _op_edit(module, operands[i], operands[i + 1], pattern, new)
                if edit is not None:
                    old = module.text[edit.start: edit.end]
                    yield make("flip_comparison", module, fn, [edit], f"`{old}` -> `{new}`")


def swap_arithmetic(module: Module) -> Iterator[Mutation]:
    """`+` to `-`, `*` to `/`, `//` to `%` and so on, in expressions and augmented assignments."""
    for fn in module.functions:
        for node in own_nodes(fn.node):
            if isinstance(node, ast.BinOp) and type(node.op) in _ARITH:
                if _is_text(node.left) or _is_text(node.right):
                    continue  # string concatenation or % formatting
                pattern, new = _ARITH[type(node.op)]
                edit = _op_edit(module, node.left, node.right, pattern, new)
            elif isinstance(node, ast.AugAssign) and type(node.op) in _ARITH:
                if _is_text(node.value):
                    continue
                pattern, new = _ARITH[type(node.op)]
                edit = _op_edit(module, node.target, node.value, pattern + "=", new + "=")
                new += "="
            else:
                continue
            if edit is not None:
                yield make("swap_arithmetic", module, fn, [edit], f"`{module.text[edit.start:edit.end]}` -> `{new}`")


def swap_boolean(module: Module) -> Iterator[Mutation]:
    """`and` to `or` (and back) across one boolean expression, or a dropped `not`."""
    for fn in module.functions:
        for node in own_nodes(fn.node):
            if isinstance(node, ast.BoolOp):
                old, new = ("and", "or") if isinstance(node.op, ast.And) else ("or", "and")
                edits = [_op_edit(module, a, b, rf"\b{old}\b", new) for a, b in zip(node.values, node.values[1:])]
                if all(e is not None for e in edits):
                    yield make("swap_boolean", module, fn, edits, f"`{old}` -> `{new}`")
            elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
                start, end = module.start(node), module.start(node.operand)
                if re.fullmatch(r"not\s*", module.text[start:end]):
                    yield make("swap_boolean", module, fn, [Edit(start, end, "")], "dropped `not`")


def shift_constant(module: Module) -> Iterator[Mutation]:
    """An integer literal moved by one (`0` to `1`, `-1` to `-2`)."""
    for fn in module.functions:
        for node in own_nodes(fn.node):
            if isinstance(node, ast.Constant) and type(node.value) is int:
                old = module.segment(node)
                new = str(node.value + 1)
                yield make("shift_constant", module, fn, [Edit(module.start(node), module.end(node), new)],
                           f"`{old}` -> `{new}`")


def swap_call_args(module: Module) -> Iterator[Mutation]:
    """The first two differing adjacent positional arguments of a call, swapped."""
    for fn in module.functions:
        for node in own_nodes(fn.node):
            if not isinstance(node, ast.Call) or len(node.args) < 2:
                continue
            if any(isinstance(a, ast.Starred) for a in node.args):
                continue
            for a, b in zip(node.args, node.args[1:]):
                ta, tb = module.segment(a), module.segment(b)
                if ta != tb:
                    edits = [Edit(module.start(a), module.end(a), tb), Edit(module.start(b), module.end(b), ta)]
                    yield make("swap_call_args", module, fn, edits, f"swapped `{ta}` and `{tb}`")
                    break


def _changed_constant(value: object) -> str | None:
    if isinstance(value, bool):
        return repr(not value)
    if type(value) is int:
        return repr(value + 1)
    if isinstance(value, str) and value:
        return repr(value[:-1])
    return None


def change_default(module: Module) -> Iterator[Mutation]:
    """A parameter's literal default changed (`True` to `False`, `n` to `n + 1`, a string shortened)."""
    for fn in module.functions:
        args = fn.node.args
        for default in [*args.defaults, *(d for d in args.kw_defaults if d is not None)]:
            if not isinstance(default, ast.Constant):
                continue
            new = _changed_constant(default.value)
            if new is not None:
                old = module.segment(default)
                yield make("change_default", module, fn, [Edit(module.start(default), module.end(default), new)],
                           f"default `{old}` -> `{new}`")


def change_exception(module: Module) -> Iterator[Mutation]:
    """`raise ValueError(...)` raising a sibling builtin exception instead."""
    for fn in module.functions:
        for node in own_nodes(fn.node):
            if not isinstance(node, ast.Raise) or node.exc is None:
                continue
            name = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(name, ast.Name) and name.id in _EXCEPTIONS:
                new = _EXCEPTIONS[name.id]
                yield make("change_exception", module, fn, [Edit(module.start(name), module.end(name), new)],
                           f"`{name.id}` -> `{new}`")


KINDS = {
    "flip_comparison": flip_comparison,
    "swap_arithmetic": swap_arithmetic,
    "swap_boolean": swap_boolean,
    "shift_constant": shift_constant,
    "swap_call_args": swap_call_args,
    "change_default": change_default,
    "change_exception": change_exception,
}
