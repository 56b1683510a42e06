"""Any OpenAI-compatible chat endpoint as a ModelClient: an API, a proxy, or a vLLM server.

The official ``openai`` client carries the requests (its timeout, connection handling and error
classes). A request that fails with a 5xx, a 408/409/429, a dropped connection or a timeout is
retried here with exponential backoff, not by the SDK: its backoff is fixed (0.5s doubling to 8s)
where ours is configured (``backoff``/``max_backoff``), and our loop counts the retries into
ModelReply.retries. Other 4xx are errors at once (a bad key, a bad model name). ``native_tools="auto"`` sends our tools as function schemas
and maps a returned tool call onto the same Action a text reply would give; an endpoint that
rejects the ``tools`` field is asked again without it, and from then on spoken to in text. The
answer is read from the raw response as plain JSON rather than the SDK's typed ChatCompletion:
endpoints other than OpenAI's send odd answers (a message that is a string, usage that is a list,
a bare list), which its models accept unchecked and which would then fail far from the request;
here each becomes a one-line ModelRequestError naming the endpoint, or a reply with a tool_error.
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import time
from dataclasses import dataclass
from typing import Any, Callable, Literal, Sequence

import openai

from swe_srl.agent.client import ModelReply, estimate_tokens
from swe_srl.agent.openai_tools import TOOLS, to_openai_messages
from swe_srl.errors import MAX_QUOTED_CHARS, ActionParseError, ConfigError, SweSrlError, clip, encodable, quoted
from swe_srl.formats.base import content_text
from swe_srl.formats.toolcalls import Thought, Unsupported, convert_call
from swe_srl.stepwise import Message

log = logging.getLogger(__name__)

RETRY_STATUS = frozenset({408, 409, 429})  # and every 5xx
NO_KEY = "EMPTY"  # the SDK refuses to start without a key; keyless local servers (vLLM) ignore this one


class ModelRequestError(SweSrlError):
    """The endpoint gave no usable answer (after retries, or an error that retrying cannot fix)."""


@dataclass(frozen=True)
class OpenAIConfig:
    """How to reach and query the endpoint."""

    base_url: str  # e.g. http://localhost:8000/v1 ; /chat/completions is appended
    model: str  # the model name the endpoint serves
    api_key: str | None = None  # default: $OPENAI_API_KEY, if set
    timeout: float = 300.0  # seconds per request
    max_retries: int = 5  # retries after the first attempt
    backoff: float = 1.0  # seconds before the first retry; doubled each time
    max_backoff: float = 60.0
    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int | None = 4096  # completion tokens per reply
    native_tools: bool | Literal["auto"] = "auto"  # send tool schemas; "auto": fall back to text if refused
    price_prompt: float = 0.0  # per million prompt tokens, for the cost limit (when usage has no cost)
    price_completion: float = 0.0  # per million completion tokens

    def __post_init__(self) -> None:
        if not self.base_url.startswith(("http://", "https://")):
            raise ConfigError(f"base_url must start with http:// or https://, got {self.base_url!r}")
        if self.max_retries < 0 or self.timeout <= 0:
            raise ConfigError("max_retries must be >= 0 and timeout > 0")


class OpenAIClient:
    """Chat completions over HTTP; see the module docstring."""

    def __init__(self, config: OpenAIConfig, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.config = config
        self.name = config.model
        self.url = config.base_url.rstrip("/") + "/chat/completions"
        self._native = config.native_tools is not False
        self._sleep = sleep
        self._sdk = openai.OpenAI(base_url=config.base_url.rstrip("/"), timeout=config.timeout, max_retries=0,
                                  api_key=config.api_key or os.environ.get("OPENAI_API_KEY") or NO_KEY)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return estimate_tokens(texts)

    def complete(self, messages: Sequence[Message]) -> ModelReply:
        start = time.perf_counter()
        body, retries = self._post(messages)
        reply = self._reply(body)
        return _with(reply, seconds=time.perf_counter() - start, retries=retries)

    def _payload(self, messages: Sequence[Message]) -> dict[str, Any]:
        c = self.config
        # The SDK sends UTF-8, which a lone surrogate (tool output decoded with surrogateescape) breaks.
        sent = [{**m, "content": encodable(m["content"])} if isinstance(m.get("content"), str) else m
                for m in to_openai_messages(messages, self._native)]
        payload: dict[str, Any] = {"model": c.model, "messages": sent,
                                   "temperature": c.temperature, "top_p": c.top_p}
        if c.max_tokens is not None:
            payload["max_tokens"] = c.max_tokens
        if self._native:
            payload["tools"] = TOOLS
            payload["tool_choice"] = "auto"
        return payload

    def _post(self, messages: Sequence[Message]) -> tuple[Any, int]:
        c = self.config
        failures = 0
        while True:
            try:
                raw = self._sdk.chat.completions.with_raw_response.create(**self._payload(messages))
                return json.loads(raw.http_response.content.decode("utf-8")), failures
            except openai.APIStatusError as err:
                detail = err.response.text[:500]
                if err.status_code == 400 and self._native and c.native_tools == "auto" and "tool" in detail.lower():
                    log.warning("%s refused native tool calls (%s); using text actions", self.url, detail[:200])
                    self._native = False
                    continue
                if err.status_code < 500 and err.status_code not in RETRY_STATUS:
                    raise ModelRequestError(f"{self.url} answered HTTP {err.status_code}: {detail}") from None
                why = f"HTTP {err.status_code}"
            except openai.APITimeoutError:
                why = f"timed out after {c.timeout:g}s"
            except openai.APIConnectionError as err:
                why = f"connection failed ({err.__cause__ or err})"
            except ValueError as err:  # not UTF-8, not JSON, or a number json.loads refuses
                why = f"the answer is not JSON ({clip(str(err), MAX_QUOTED_CHARS)})"
            except RecursionError:
                why = "the answer is JSON nested too deeply"
            failures += 1
            if failures > c.max_retries:
                raise ModelRequestError(f"{self.url}: {why}; gave up after {failures} attempts")
            delay = min(c.max_backoff, c.backoff * 2 ** (failures - 1)) * (0.5 + random.random() / 2)
            log.warning("%s: %s; retry %d/%d in %.1fs", self.url, why, failures, c.max_retries, delay)
            self._sleep(delay)

    def _reply(self, body: Any) -> ModelReply:
        try:
            choice = body["choices"][0]
            message = choice["message"]
            if not isinstance(message, dict):
                raise TypeError(type(message).__name__)
        except (KeyError, IndexError, TypeError):
            raise ModelRequestError(f"{self.url}: the answer has no choices[0].message object: {quoted(body)}") from None
        usage = body.get("usage") if isinstance(body.get("usage"), dict) else {}
        prompt_tokens, completion_tokens = _count(usage.get("prompt_tokens")), _count(usage.get("completion_tokens"))
        cost = _number(usage.get("cost"))
        if cost is None:
            cost = (prompt_tokens * self.config.price_prompt + completion_tokens * self.config.price_completion) / 1e6
        content, reasoning = _text(message.get("content")), _text(message.get("reasoning_content") or message.get("reasoning"))
        action, tool_error = None, None
        calls = message.get("tool_calls") or []
        if calls:
            text = (reasoning + "\n" + content).strip()
            action, tool_error = _map_calls(calls)
        else:
            text = f"<think>\n{reasoning}\n</think>\n{content}" if reasoning and "<think>" not in content else content
        return ModelReply(text=text, action=action, tool_error=tool_error, prompt_tokens=prompt_tokens,
                          completion_tokens=completion_tokens, cost=cost,
                          finish_reason=_text(choice.get("finish_reason")))


def _number(value: Any) -> float | None:
    """A finite number of the usage record, or None for anything else (text, null, 1e999)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int beyond any float
        return None
    return number if math.isfinite(number) else None


def _count(value: Any) -> int:
    """A token count from the usage record; anything but a finite number counts as 0."""
    number = _number(value)
    return max(0, int(number)) if number is not None else 0


def _text(value: Any) -> str:
    """A text field of the answer: a string or a list of typed parts, lone surrogates escaped."""
    return encodable(content_text(value)) if isinstance(value, (str, list)) else ""


def _map_calls(calls: Any) -> tuple[Any, str | None]:
    """The one Action of a native tool-call list, or why there is none."""
    if not isinstance(calls, list) or len(calls) != 1:
        count = len(calls) if isinstance(calls, list) else f"a {type(calls).__name__}"
        return None, f"expected exactly one tool call, got {count}"
    function = calls[0].get("function") if isinstance(calls[0], dict) else None
    if not isinstance(function, dict):
        return None, "the tool call has no function object"
    name = function.get("name")
    try:
        converted = convert_call(name, function.get("arguments"))
    except ActionParseError as err:
        return None, f"tool call {quoted(name)}: {err}"
    if isinstance(converted, (Thought, Unsupported)):
        return None, f"tool call {quoted(name)} is not one of bash, str_replace_editor, submit"
    return converted, None


def _with(reply: ModelReply, **changes: Any) -> ModelReply:
    from dataclasses import replace

    return replace(reply, **changes)
