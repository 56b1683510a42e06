"""Observation dialects: how a teacher's tools framed what its model read, as data.

A student trained on OpenHands' or SWE-agent's observations should read the same framing when it
acts in this project's sandbox. A Dialect names one way of rendering tool results: bash framing
(exit-code lines, working directory, empty output, stripping, timeouts) in ``BashStyle`` and the
str_replace_editor's wording (error prefix, the numbered empty line after a final newline,
clipping, directory views, view_range errors) in ``EditorStyle``. The renderers are pure
(bash.py and edit_text.py here); the sandbox tools pick the style by name.

The texts were read off the real observations in ../shared/data/trajectories (see
benchmarks/RESULTS.md for how many each dialect reproduces byte for byte).
"""

from __future__ import annotations

from swe_srl.dialects.styles import (
    DEFAULT_DIALECT,
    DIALECT_KEY,
    DIALECTS,
    BashStyle,
    Dialect,
    EditorStyle,
    dialect_for_format,
    get_dialect,
)

__all__ = ["DEFAULT_DIALECT", "DIALECT_KEY", "DIALECTS", "BashStyle", "Dialect", "EditorStyle", "dialect_for_format",
           "get_dialect"]
