"""Statement rewrite by a model, over real HTTP against a loopback server with canned chat completions."""

from __future__ import annotations

import json
from typing import Any, Iterator

import pytest

from swe_srl.cli import build_parser
from swe_srl.errors import ConfigError
from swe_srl.factory import rewrite
from swe_srl.factory.rewrite import (EMPTY_REPLY, LEAKS_CHANGED_LINE, REQUEST_FAILED, REWRITTEN, leaked_line,
                                     rewrite_client, rewrite_statement)
from swe_srl.factory.statement import changed_lines
from swe_srl.config.synthesize import SynthConfig
from tests.loopback import JsonServer

TEMPLATE = """\
`sliding_window` returns the wrong result

I am using toolz and ran into this.

This code:

```python
assert list(sliding_window(2, [1, 2, 3, 4])) == [(1, 2), (2, 3), (3, 4)]
```
"""
ORIGINAL = "def sliding_window(n, seq):\n    if n < 1:\n        return iter(())\n    return zip(*tees(n, seq))\n"
BUGGY = "def sliding_window(n, seq):\n    if n <= 1:\n        return iter(())\n    return zip(*tees(n, seq))\n"
ISSUE = ("sliding_window drops every window\n\nCalling `list(sliding_window(2, [1, 2, 3, 4]))` gives `[]`, "
         "but I expected `[(1, 2), (2, 3), (3, 4)]`.\n")


class CannedServer(JsonServer):
    """POST /v1/chat/completions answers the next canned (status, content) pair; requests are kept."""

    def __init__(self) -> None:
        self.replies: list[tuple[int, str | None]] = []
        self.requests: list[dict[str, Any]] = []
        super().__init__(self._answer)

    def _answer(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        self.requests.append(body)
        status, content = self.replies.pop(0) if self.replies else (500, None)
        if status != 200:
            return status, {"error": {"message": "canned failure"}}
        return 200, {"choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                                  "finish_reason": "stop"}],
                     "usage": {"prompt_tokens": 50, "completion_tokens": 20}}


@pytest.fixture
def server() -> Iterator[CannedServer]:
    canned = CannedServer()
    yield canned
    canned.close()


def model(server: CannedServer):
    return rewrite_client("rewriter", server.base_url, timeout=5.0, max_retries=0)


def test_changed_lines_are_the_old_and_new_code():
    assert changed_lines(ORIGINAL, BUGGY) == ["    if n < 1:", "    if n <= 1:"]


def test_an_accepted_rewrite_replaces_the_template(server):
    server.replies = [(200, ISSUE)]
    result = rewrite_statement(model(server), TEMPLATE, changed_lines(ORIGINAL, BUGGY), instance_id="toolz-1")
    assert result.outcome == REWRITTEN and result.text == ISSUE
    (sent,) = server.requests
    assert sent["model"] == "rewriter" and "tools" not in sent
    system, user = sent["messages"]
    assert system["role"] == "system" and "quote any line of the library's own source code" in system["content"]
    assert TEMPLATE in user["content"]
    # The model is never shown the change it must not reveal.
    assert "n <= 1" not in json.dumps(sent) and "n < 1" not in json.dumps(sent)


def test_a_reply_quoting_the_changed_line_keeps_the_template(server, caplog):
    # The old (correct) line leaks the fix just as the new one leaks the bug; spacing does not hide it.
    for leak in ("The bug is in `if n <= 1:` I think.", "It should say\n    if n<1:\ninstead."):
        server.replies = [(200, ISSUE + leak)]
        result = rewrite_statement(model(server), TEMPLATE, changed_lines(ORIGINAL, BUGGY), instance_id="toolz-1")
        assert result.outcome == LEAKS_CHANGED_LINE and result.text == TEMPLATE
        assert result.detail in ("if n <= 1:", "if n < 1:")
    assert "quotes the changed line" in caplog.text and "toolz-1" in caplog.text


def test_a_failed_request_or_an_empty_reply_keeps_the_template(server):
    server.replies = [(503, None)]
    result = rewrite_statement(model(server), TEMPLATE, ["    if n <= 1:"])
    assert result.outcome == REQUEST_FAILED and result.text == TEMPLATE and "503" in result.detail
    server.replies = [(200, "<think>\nhmm\n</think>\n")]
    assert rewrite_statement(model(server), TEMPLATE, ["    if n <= 1:"]).outcome == EMPTY_REPLY
    dead = rewrite_client("rewriter", "http://127.0.0.1:9/v1", timeout=1.0, max_retries=0)
    assert rewrite_statement(dead, TEMPLATE, []).outcome == REQUEST_FAILED


def test_short_changed_lines_are_not_counted_as_leaks():
    assert leaked_line("then pass the value on", ["    pass"]) is None
    assert leaked_line("x = compute(a,b)", ["    x = compute(a, b)"]) == "x = compute(a, b)"
    assert rewrite.MIN_LEAK_CHARS == 6


def test_config_and_cli_take_model_and_endpoint_together(tmp_path):
    with pytest.raises(ConfigError, match="rewrite_model and rewrite_base_url"):
        SynthConfig(out=tmp_path, rewrite_model="m")
    args = build_parser().parse_args(["tasks", "synthesize", "toolz==0.12.1", "--out", str(tmp_path),
                                      "--rewrite-model", "m", "--rewrite-base-url", "http://localhost:8000/v1"])
    assert (args.rewrite_model, args.rewrite_base_url) == ("m", "http://localhost:8000/v1")


def test_a_kept_task_gets_the_rewrite_only_when_it_does_not_leak(server):
    from swe_srl.factory import rows
    from swe_srl.factory.mutation import Edit, Mutation
    from swe_srl.factory.kept import rewrite_task as _rewrite

    start = ORIGINAL.index("n < 1")
    mutation = Mutation("flip_comparison", "toolz/itertoolz.py", "sliding_window", 2, "< to <=",
                        (Edit(start + 2, start + 3, "<="),))
    assert mutation.apply(ORIGINAL) == BUGGY
    task = rows.task_row(name="toolz", version="0.12.1", kind=mutation.kind, bug_key="ab" * 32, base_commit="c" * 40,
                         image="swe-srl-synth.toolz:cccccccccccc", gold="diff --git a/x b/x\n", statement=TEMPLATE,
                         fail_to_pass=["toolz/tests/test_itertoolz.py::test_sliding_window"], pass_to_pass=[],
                         meta={"kind": mutation.kind})
    server.replies = [(200, ISSUE), (200, ISSUE + "\nMaybe `if n <= 1:` is wrong?")]
    rewritten, outcome = _rewrite(task, mutation, ORIGINAL, model(server))
    assert outcome == REWRITTEN and rewritten.problem_statement == ISSUE
    assert rewritten.to_row() == {**task.to_row(), "problem_statement": ISSUE}
    kept, outcome = _rewrite(task, mutation, ORIGINAL, model(server))
    assert outcome == LEAKS_CHANGED_LINE and kept is task
