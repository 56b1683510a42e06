"""Proof by replay: the teachers' real observations, re-rendered in their dialect, byte for byte.

The table is printed (pytest -s shows it; `python -m tests.dialects.replay` prints only it) and
benchmarks/RESULTS.md records it. SWE-agent 0.x runs (windowed `open`/`edit` tools, a state footer
after every command) are counted apart: no dialect renders those tools.
"""

from __future__ import annotations

import pytest

from tests.dialects.replay import SHARED, WINDOWED_RUN, replay_all, table


@pytest.fixture(scope="module")
def outcomes():
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent: the shared trajectory data is not beside this checkout")
    found = replay_all()
    print("\n" + table(found))
    return [o for o in found if WINDOWED_RUN not in o.kind]


def test_at_least_95_percent_of_editor_observations_are_exact(outcomes):
    editor = [o for o in outcomes if o.kind.startswith("editor")]
    exact = sum(o.matched for o in editor)
    assert len(editor) >= 150 and exact / len(editor) >= 0.95, f"{exact} of {len(editor)}"


def test_every_bash_framing_is_exact(outcomes):
    bash = [o for o in outcomes if o.kind == "bash"]
    wrong = [(o.source, o.recorded[-120:], o.rendered[-120:]) for o in bash if not o.matched]
    assert len(bash) >= 140 and not wrong, wrong[:3]


def test_every_source_and_dialect_is_replayed(outcomes):
    assert {(o.source, o.dialect) for o in outcomes} == {
        ("openhands", "openhands"), ("swe-gym", "openhands-2024"), ("swe-smith", "swe-agent"),
        ("swe-agent", "swe-agent"), ("mini-swe-agent", "mini-swe-agent")}
