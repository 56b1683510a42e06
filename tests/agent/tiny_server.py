"""A small OpenAI-compatible chat server on loopback that serves the tiny transformers model.

Test-only. It answers POST /v1/chat/completions with the tiny model's generation and real token
usage, and can be told to misbehave first: answer with an HTTP status, stall past the client's
timeout, refuse the ``tools`` field, or answer with a prepared message (a native tool call).
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from swe_srl.actions import Action
from swe_srl.agent.local_client import TransformersClient
from swe_srl.stepwise import Message
from tests.loopback import JsonServer


def _to_messages(raw: list[dict[str, Any]]) -> list[Message]:
    """OpenAI messages back to plain chat turns for the tiny model (tool calls as action text)."""
    out = []
    for m in raw:
        if m.get("tool_calls"):
            call = m["tool_calls"][0]["function"]
            out.append(Message("assistant", Action.make(call["name"], json.loads(call["arguments"])).render()))
        elif m["role"] == "tool":
            out.append(Message("user", m["content"]))
        else:
            out.append(Message(m["role"], m.get("content") or ""))
    return out


class TinyServer(JsonServer):
    """Serves ``client`` at ``self.base_url`` until ``close()``; faults are consumed one per request."""

    def __init__(self, client: TransformersClient) -> None:
        self.client = client
        self.faults: list[tuple[str, Any]] = []  # ("status", 503) | ("stall", seconds) | ("reply", message)
        self.reject_tools = False
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        super().__init__(self._answer)

    def _answer(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests.append(body)
            fault = self.faults.pop(0) if self.faults else None
        if path != "/v1/chat/completions":
            return 404, {"error": {"message": f"no route {path}"}}
        if fault and fault[0] == "status":
            return fault[1], {"error": {"message": "injected failure"}}
        if fault and fault[0] == "stall":
            time.sleep(fault[1])  # the client has given up by now: answer without generating
            fault = ("reply", {"role": "assistant", "content": "too late"})
        if self.reject_tools and "tools" in body:
            return 400, {"error": {"message": "this server does not support tools"}}
        if fault and fault[0] == "reply":
            message, usage = fault[1], {"prompt_tokens": 3, "completion_tokens": 4}
            finish = "tool_calls" if message.get("tool_calls") else "stop"
        else:
            reply = self.client.complete(_to_messages(body["messages"]))
            message = {"role": "assistant", "content": reply.text}
            usage = {"prompt_tokens": reply.prompt_tokens, "completion_tokens": reply.completion_tokens}
            finish = reply.finish_reason
        return 200, {"id": "chatcmpl-tiny", "object": "chat.completion", "model": body.get("model"),
                     "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                     "usage": {**usage, "total_tokens": sum(usage.values())}}
