"""An assistant message's text -> its calls, for agents without native tool calls.

Each parser returns (thought, converted calls) and raises ToolCallError for a call that cannot
be read: ``<function=NAME>`` blocks (SWE-smith, OpenHands without native calls) and the older
OpenHands CodeAct tags (``<execute_bash>``, ``<finish>``).

The two runtimes that wrote ``<function=NAME>`` text disagree on one point. SWE-agent (SWE-smith's
data) needs the closing ``</function>`` and answers a block without it with a format error.
OpenHands samples its model with ``</function`` as a stop word, so the closing tag is routinely
absent, and its parser (``_fix_stopword`` in ``openhands/llm/fn_call_converter.py``) closes the
block at the end of the message when the message holds exactly one ``<function=``.
"""

from __future__ import annotations

import re
from typing import Callable

from swe_srl.actions import Action, find_blocks, parse_function_calls
from swe_srl.errors import ActionParseError
from swe_srl.formats.toolcalls import Converted, ToolCallError, Unsupported, convert_call

# (thought text, converted actions) from an assistant message's text; raises ToolCallError.
TextParser = Callable[[str], tuple[str, list[Converted]]]


def function_blocks(text: str) -> tuple[str, list[Converted]]:
    """``<function=NAME>`` blocks, each closed by ``</function>`` (SWE-agent's rule); thought is the rest."""
    if "<function=" not in text:
        return text.strip(), []
    try:
        blocks = parse_function_calls(text)
    except ActionParseError as err:
        raise ToolCallError(str(err), field="content") from None
    converted = [convert_call(name, params) for name, params in blocks]
    thought = text.split("<function=", 1)[0].strip()
    return thought, converted


_FUNCTION_END = "</function>"
_CODEACT_START = re.compile(r"<(execute_bash|execute_ipython|execute_browse)>")
_FINISH_START = re.compile(r"<finish(>|\s*/>)")


def codeact_blocks(text: str) -> tuple[str, list[Converted]]:
    """The older OpenHands CodeAct text form: ``<execute_bash>``, ``<execute_ipython>`` ... and ``<finish>``."""
    converted: list[Converted] = []
    first = len(text)
    for opening, body, _ in find_blocks(text, _CODEACT_START, lambda m: f"</{m.group(1)}>"):
        first = min(first, opening.start())
        if opening.group(1) == "execute_bash":
            converted.append(convert_call("execute_bash", {"command": body}))
        elif opening.group(1) == "execute_ipython":
            converted.append(convert_call("execute_ipython_cell", {"code": body}))
        else:
            converted.append(Unsupported(opening.group(1)))
    # <finish>...</finish>, or a self-closed <finish/> (its "closing tag" is the empty string).
    finish = next(find_blocks(text, _FINISH_START, lambda m: "</finish>" if m.group(1) == ">" else ""), None)
    if finish:
        first = min(first, finish[0].start())
        converted.append(Action.submit())
    return text[:first].strip(), converted


def close_stopped_call(text: str) -> str:
    """``text`` with its one ``<function=`` block closed at the end, as OpenHands' parser does."""
    opening = text.find("<function=")
    if opening < 0 or text.find("<function=", opening + 1) >= 0 or _FUNCTION_END in text[opening:]:
        return text
    for cut in range(len(_FUNCTION_END) - 1, 1, -1):  # the stop word "</function", or part of it, was kept
        if text.endswith(_FUNCTION_END[:cut]):
            return text + _FUNCTION_END[cut:]
    return text + "\n" + _FUNCTION_END


def any_text_actions(text: str) -> tuple[str, list[Converted]]:
    """OpenHands' text forms: function blocks (a stopped final block closed), else CodeAct tags."""
    thought, converted = function_blocks(close_stopped_call(text))
    if converted:
        return thought, converted
    return codeact_blocks(text)
