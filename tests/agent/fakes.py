"""Test doubles for the agent loop: a client that answers from a list, and a pretend sandbox."""

from __future__ import annotations

from typing import Sequence

from swe_srl.actions import Action
from swe_srl.agent.client import ModelReply, estimate_tokens
from swe_srl.stepwise import Message
from swe_srl.tasks.task import Task

TASK = Task(instance_id="demo__pkg-1", repo="demo/pkg", base_commit="0" * 40,
            problem_statement="parse() crashes on empty input", patch="")


def think(action: Action, thought: str = "let me look") -> str:
    return f"<think>\n{thought}\n</think>\n{action.render()}"


class ListClient:
    """Answers with the given replies in order (text, or ModelReply), repeating the last one."""

    name = "list-client"

    def __init__(self, replies: Sequence[str | ModelReply], tokens: int = 10, cost: float = 0.0) -> None:
        self.replies = list(replies)
        self.tokens = tokens
        self.cost = cost
        self.prompts: list[tuple[Message, ...]] = []

    def complete(self, messages: Sequence[Message]) -> ModelReply:
        self.prompts.append(tuple(messages))
        reply = self.replies[min(len(self.prompts), len(self.replies)) - 1]
        if isinstance(reply, ModelReply):
            return reply
        return ModelReply(text=reply, prompt_tokens=self.tokens, completion_tokens=self.tokens, cost=self.cost,
                          seconds=0.001, finish_reason="stop")

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return estimate_tokens(texts)


class FakeTools:
    """Pretends to run actions: bash echoes its command, submit returns the 'diff'."""

    def __init__(self, diff: str = "diff --git a/x b/x\n") -> None:
        self.actions: list[Action] = []
        self.diff_text = diff

    def __call__(self, action: Action) -> str:
        self.actions.append(action)
        if action.tool == "submit":
            return self.diff_text
        return f"ran: {action.get('command') or action.get('path')}"

    def diff(self) -> str:
        return self.diff_text
