"""A small OpenAI-compatible chat server on loopback that serves the tiny transformers model.

Test-only. It answers POST /v1/chat/completions with the tiny model's generation and real token
usage, and can be told to misbehave first: answer with an HTTP status, stall past the client's
timeout, refuse the ``tools`` field, or answer with a prepared message (a native tool call).
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from swe_srl.actions import Action
from swe_srl.agent.local_client import TransformersClient
from swe_srl.stepwise import Message


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


class TinyServer:
    """Serves ``client`` at ``self.base_url`` until ``close()``; faults are consumed one per request."""

    def __init__(self, client: TransformersClient) -> None:
        self.client = client
        self.faults: list[tuple[str, Any]] = []  # ("status", 503) | ("stall", seconds) | ("reply", message)
        self.reject_tools = False
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server._lock:
                    server.requests.append(body)
                    fault = server.faults.pop(0) if server.faults else None
                if self.path != "/v1/chat/completions":
                    return self._send(404, {"error": {"message": f"no route {self.path}"}})
                if fault and fault[0] == "status":
                    return self._send(fault[1], {"error": {"message": "injected failure"}})
                if fault and fault[0] == "stall":
                    time.sleep(fault[1])  # the client has given up by now; answering may fail
                if server.reject_tools and "tools" in body:
                    return self._send(400, {"error": {"message": "this server does not support tools"}})
                if fault and fault[0] == "reply":
                    message, usage = fault[1], {"prompt_tokens": 3, "completion_tokens": 4}
                    finish = "tool_calls" if message.get("tool_calls") else "stop"
                else:
                    reply = server.client.complete(_to_messages(body["messages"]))
                    message = {"role": "assistant", "content": reply.text}
                    usage = {"prompt_tokens": reply.prompt_tokens, "completion_tokens": reply.completion_tokens}
                    finish = reply.finish_reason
                self._send(200, {"id": "chatcmpl-tiny", "object": "chat.completion", "model": body.get("model"),
                                 "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                                 "usage": {**usage, "total_tokens": sum(usage.values())}})

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=5)
