"""Mutation kinds on small sources: each applies where it should, compiles, and changes one thing."""

from __future__ import annotations

import textwrap

import pytest

from swe_srl.factory.mutations import balanced_order, kinds, mutations_for
from swe_srl.factory.source import Module

SOURCE = textwrap.dedent('''
    """A module."""

    LIMIT = 3


    def clamp(x, low=0, strict=True):
        """Clamp x."""
        if x < low:
            return low
        total = x + 1
        if strict and x >= LIMIT:
            raise ValueError("too big")
        else:
            total -= 2
        log(x, total)
        return not total


    class Box:
        def put(self, item):
            if item is None:
                return False
            self.items.append(item)
            return item in self.items
''')


def _apply(kind: str) -> list[str]:
    module = Module("pkg/mod.py", SOURCE)
    return [m.apply(SOURCE) for m in mutations_for(module, only=[kind])]


def _changed_lines(new: str) -> list[tuple[str, str]]:
    import difflib

    old_lines, new_lines = SOURCE.splitlines(), new.splitlines()
    return [(line[0], line[1:].strip()) for line in difflib.unified_diff(old_lines, new_lines, lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def test_flip_comparison_flips_each_operator_in_place():
    results = [_changed_lines(t) for t in _apply("flip_comparison")]
    assert [("-", "if x < low:"), ("+", "if x <= low:")] in results
    assert [("-", "if strict and x >= LIMIT:"), ("+", "if strict and x > LIMIT:")] in results
    assert [("-", "if item is None:"), ("+", "if item is not None:")] in results
    assert [("-", "return item in self.items"), ("+", "return item not in self.items")] in results
    assert len(results) == 4


def test_swap_arithmetic_covers_binops_and_augmented_assignments():
    results = [_changed_lines(t) for t in _apply("swap_arithmetic")]
    assert [("-", "total = x + 1"), ("+", "total = x - 1")] in results
    assert [("-", "total -= 2"), ("+", "total += 2")] in results


def test_swap_boolean_and_dropped_not():
    results = [_changed_lines(t) for t in _apply("swap_boolean")]
    assert [("-", "if strict and x >= LIMIT:"), ("+", "if strict or x >= LIMIT:")] in results
    assert [("-", "return not total"), ("+", "return total")] in results


def test_shift_constant_only_inside_functions():
    results = [_changed_lines(t) for t in _apply("shift_constant")]
    assert [("-", "total = x + 1"), ("+", "total = x + 2")] in results
    assert [("-", "total -= 2"), ("+", "total -= 3")] in results
    assert not any("LIMIT = 4" in line for r in results for _, line in r)  # module level: not a function


def test_change_default_and_exception():
    defaults = [_changed_lines(t) for t in _apply("change_default")]
    assert [("-", "def clamp(x, low=0, strict=True):"), ("+", "def clamp(x, low=1, strict=True):")] in defaults
    assert [("-", "def clamp(x, low=0, strict=True):"), ("+", "def clamp(x, low=0, strict=False):")] in defaults
    raised = [_changed_lines(t) for t in _apply("change_exception")]
    assert raised == [[("-", 'raise ValueError("too big")'), ("+", 'raise TypeError("too big")')]]


def test_swap_call_args():
    results = [_changed_lines(t) for t in _apply("swap_call_args")]
    assert results == [[("-", "log(x, total)"), ("+", "log(total, x)")]]


def test_statement_kinds_remove_whole_lines():
    dropped = [_changed_lines(t) for t in _apply("drop_if_branch")]
    assert dropped == [[("-", "else:"), ("-", "total -= 2")]]
    early = [_changed_lines(t) for t in _apply("remove_early_return")]
    assert [("-", "if x < low:"), ("-", "return low")] in early
    assert [("-", "if item is None:"), ("-", "return False")] in early
    removed = [_changed_lines(t) for t in _apply("remove_statement")]
    assert [("-", "self.items.append(item)")] in removed
    assert [("-", "log(x, total)")] in removed
    assert not any(line == '"""Clamp x."""' for r in removed for _, line in r)  # docstrings stay


def test_every_mutation_compiles_changes_the_text_and_names_its_function():
    module = Module("pkg/mod.py", SOURCE)
    found = mutations_for(module)
    assert {m.kind for m in found} == set(kinds())
    for m in found:
        new = m.apply(SOURCE)
        assert new != SOURCE
        compile(new, "mod.py", "exec")
        assert m.function in {"clamp", "Box.put"}
    assert len({m.key(SOURCE) for m in found}) == len(found)  # deduplicated


def test_restricting_to_functions_and_unknown_kinds():
    module = Module("pkg/mod.py", SOURCE)
    only_put = mutations_for(module, functions={"Box.put"})
    assert only_put and all(m.function == "Box.put" for m in only_put)
    with pytest.raises(ValueError, match="unknown mutation kinds"):
        mutations_for(module, only=["nope"])


def test_balanced_order_round_robins_kinds_and_is_stable():
    module = Module("pkg/mod.py", SOURCE)
    found = mutations_for(module)
    order = balanced_order(found, seed=1)
    assert order == balanced_order(list(reversed(found)), seed=1)
    n_kinds = len({m.kind for m in found})
    assert len({m.kind for m in order[:n_kinds]}) == n_kinds


def test_nested_function_qualnames_match_cpython():
    src = "class A:\n    def f(self):\n        def g():\n            return 1 + 1\n        return g\n"
    module = Module("m.py", src)
    assert [f.qualname for f in module.functions] == ["A.f", "A.f.<locals>.g"]
    ns: dict = {}
    exec(compile(src, "m.py", "exec"), ns)
    assert ns["A"]().f().__code__.co_qualname == "A.f.<locals>.g"


def test_non_ascii_columns_are_spliced_by_character():
    src = "def f(x):\n    s = 'é'; return x < 1\n"
    module = Module("m.py", src)
    results = [m.apply(src) for m in mutations_for(module, only=["flip_comparison"])]
    assert results == ["def f(x):\n    s = 'é'; return x <= 1\n"]
