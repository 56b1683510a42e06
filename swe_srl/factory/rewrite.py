"""Optional rewrite of a template problem statement by an OpenAI-compatible model.

The template (statement.py) is correct but stiff; a model can phrase it as a user would file it.
The model never sees the changed line, and its reply is still checked for it: a reply that quotes
the old or the new code of the bug would hand the agent the answer, so the template is kept
instead, as it is when the request fails or the reply is empty. Each outcome is a reason string
the report counts.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Protocol, Sequence

from swe_srl.stepwise import Message

log = logging.getLogger(__name__)

# Outcomes of one rewrite; the report counts the fallbacks per reason.
REWRITTEN = "rewritten"
REQUEST_FAILED = "request_failed"
EMPTY_REPLY = "empty_reply"
LEAKS_CHANGED_LINE = "leaks_changed_line"

MIN_LEAK_CHARS = 6  # shorter changed lines (`pass`, `x += 1`) are too common to count as a leak

SYSTEM_PROMPT = """\
You rewrite bug reports so that they read like a GitHub issue written by a user of a Python library.
Keep every fact of the report: the code the user ran, the output or exception they got, what they
expected, and the failing test's name. Do not guess the cause, do not propose a fix, and do not
mention or quote any line of the library's own source code. Answer with the issue text only: a
title line, then the body in Markdown."""


class ChatModel(Protocol):
    """What the rewrite needs of a model client (swe_srl.agent.openai_client.OpenAIClient has it)."""

    def complete(self, messages: Sequence[Message]) -> object:
        ...


@dataclass(frozen=True)
class Rewrite:
    """The statement to use and how it came about (REWRITTEN, or why the template was kept)."""

    text: str
    outcome: str
    detail: str = ""  # the error or the leaked line, for the log


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def leaked_line(reply: str, changed: Sequence[str]) -> str | None:
    """The first changed line that ``reply`` quotes (whitespace ignored), or None."""
    squashed = _squash(reply)
    for line in changed:
        key = _squash(line)
        if len(key) >= MIN_LEAK_CHARS and key in squashed:
            return line.strip()
    return None


def _strip_thinking(text: str) -> str:
    return re.sub(r"<think>.*?</think>", "", text, flags=re.DOTALL).strip()


def rewrite_statement(model: ChatModel, template: str, changed: Sequence[str], *, instance_id: str = "") -> Rewrite:
    """Ask ``model`` to rephrase ``template``; keep the template on failure or a leak of ``changed``."""
    from swe_srl.errors import SweSrlError

    messages = [Message("system", SYSTEM_PROMPT), Message("user", f"Rewrite this bug report:\n\n{template}")]
    try:
        reply = model.complete(messages)
    except (SweSrlError, OSError, ValueError) as err:
        log.warning("%s: statement rewrite failed, keeping the template: %s", instance_id, err)
        return Rewrite(template, REQUEST_FAILED, str(err))
    text = _strip_thinking(str(getattr(reply, "text", "") or ""))
    if not text:
        log.warning("%s: the model's rewrite is empty; keeping the template", instance_id)
        return Rewrite(template, EMPTY_REPLY)
    leak = leaked_line(text, changed)
    if leak is not None:
        log.warning("%s: the model's rewrite quotes the changed line %r; keeping the template", instance_id, leak)
        return Rewrite(template, LEAKS_CHANGED_LINE, leak)
    return Rewrite(text.rstrip() + "\n", REWRITTEN)


def rewrite_client(model: str, base_url: str, *, timeout: float = 120.0, max_retries: int = 2) -> ChatModel:
    """The agent runtime's OpenAI-compatible client, set up for plain-text rewrites (no tools)."""
    from swe_srl.agent.openai_client import OpenAIClient, OpenAIConfig

    return OpenAIClient(OpenAIConfig(base_url=base_url, model=model, timeout=timeout, max_retries=max_retries,
                                     max_tokens=1024, native_tools=False))
