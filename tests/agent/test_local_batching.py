"""Concurrent ``complete`` calls on the local client share batched ``generate`` calls and get the replies
they would get alone.

The tiny model's weights are scaled up (``weight_scale``) so greedy replies differ across prompts and
along a reply: with the default init every reply repeats one token, and a wrong padding or position
could pass unnoticed.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

pytest.importorskip("torch")

from swe_srl.agent.local_client import TransformersClient  # noqa: E402
from swe_srl.stepwise import Message  # noqa: E402
from swe_srl.train.tiny import tiny_model, tiny_tokenizer  # noqa: E402

# Prompts of different lengths, so a batch left-pads all but the longest.
QUESTIONS = ["def parse(value): return the issue fails when a user calls function with an empty list", "ls -la",
             "pytest -x tests/test_parse.py::test_parse_empty -q", "a", "cd /testbed && git status"]


class CountingGenerate:
    """Wraps the model's own ``generate``: records the rows of each call, then delegates to it.

    ``hold()`` keeps the next call waiting inside until ``release()``, so a test can queue callers behind a
    running batch; ``fail_at`` is the index of a call that raises instead of generating.
    """

    def __init__(self, model: Any, fail_at: int | None = None) -> None:
        self.inner = model.generate
        self.rows: list[int] = []
        self.fail_at = fail_at
        self.entered = threading.Event()
        self.released = threading.Event()
        self.released.set()

    def hold(self) -> None:
        self.entered.clear()
        self.released.clear()

    def release(self) -> None:
        self.released.set()

    def __call__(self, **kwargs: Any) -> Any:
        self.rows.append(kwargs["input_ids"].shape[0])
        self.entered.set()
        self.released.wait()
        if len(self.rows) - 1 == self.fail_at:
            raise RuntimeError("out of memory (raised by the test)")
        return self.inner(**kwargs)


@pytest.fixture(scope="module")
def tokenizer():
    return tiny_tokenizer()


@pytest.fixture(scope="module")
def model(tokenizer):
    return tiny_model(tokenizer, seed=2, weight_scale=20).eval()


def client_with_counter(model, tokenizer, monkeypatch, max_batch: int) -> tuple[TransformersClient, CountingGenerate]:
    counter = CountingGenerate(model)
    monkeypatch.setattr(model, "generate", counter)
    return TransformersClient(model, tokenizer, max_new_tokens=16, max_batch=max_batch), counter


def messages(question: str) -> list[Message]:
    return [Message("system", "You fix bugs."), Message("user", question)]


def complete_in_threads(client: TransformersClient, questions: list[str]) -> list[Any]:
    """Every question asked from its own thread at once; the replies, or the exceptions, in order."""
    out: list[Any] = [None] * len(questions)

    def ask(i: int) -> None:
        try:
            out[i] = client.complete(messages(questions[i]))
        except Exception as err:  # collected: the test checks who saw it
            out[i] = err

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(questions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a caller never got its reply"
    return out


def queued_behind_a_held_batch(client: TransformersClient, counter: CountingGenerate, first: str,
                               rest: list[str]) -> list[Any]:
    """Ask ``first``, hold its batch inside generate until all of ``rest`` have queued, then let it run;
    the replies (or exceptions) of ``[first, *rest]``."""
    counter.hold()
    out: list[Any] = []
    leader = threading.Thread(target=lambda: out.extend(complete_in_threads(client, [first])))
    leader.start()
    assert counter.entered.wait(timeout=30)
    followers_out: list[Any] = []
    followers = threading.Thread(target=lambda: followers_out.extend(complete_in_threads(client, rest)))
    followers.start()
    deadline = time.monotonic() + 30
    while len(client._batcher._queue) < len(rest) and time.monotonic() < deadline:
        time.sleep(0.005)
    counter.release()
    leader.join(timeout=60)
    followers.join(timeout=60)
    return out + followers_out


def summary(reply) -> tuple[str, int, int, str]:
    return reply.text, reply.prompt_tokens, reply.completion_tokens, reply.finish_reason


def test_concurrent_callers_share_one_generate_call_and_get_the_replies_they_get_alone(model, tokenizer,
                                                                                       monkeypatch):
    alone, counter = client_with_counter(model, tokenizer, monkeypatch, max_batch=1)
    expected = [summary(alone.complete(messages(q))) for q in QUESTIONS]
    # Not a degenerate model: the prompts differ in length and the replies in text.
    assert len({p for _, p, _, _ in expected}) == len(QUESTIONS) and len({t for t, *_ in expected}) == len(QUESTIONS)

    batched = TransformersClient(model, tokenizer, max_new_tokens=16, max_batch=8)
    replies = queued_behind_a_held_batch(batched, counter, QUESTIONS[0], QUESTIONS[1:])
    # Five calls alone, then the first question alone and the four that queued behind it in one batch.
    assert counter.rows == [1] * len(QUESTIONS) + [1, len(QUESTIONS) - 1]
    assert [summary(r) for r in replies] == expected


def test_an_error_in_generate_reaches_every_caller_of_the_batch_and_the_next_batch_runs(model, tokenizer,
                                                                                       monkeypatch):
    client, counter = client_with_counter(model, tokenizer, monkeypatch, max_batch=8)
    counter.fail_at = 1  # the batch of the callers queued behind the first
    replies = queued_behind_a_held_batch(client, counter, QUESTIONS[0], QUESTIONS[1:4])
    assert counter.rows == [1, 3]
    assert replies[0].completion_tokens > 0
    assert all(isinstance(r, RuntimeError) and "out of memory" in str(r) for r in replies[1:])
    # The client still works, in batches, after the failure.
    again = queued_behind_a_held_batch(client, counter, QUESTIONS[1], QUESTIONS[2:])
    assert counter.rows == [1, 3, 1, 3]
    assert all(r.completion_tokens > 0 for r in again)


def test_max_batch_one_never_batches(model, tokenizer, monkeypatch):
    client, counter = client_with_counter(model, tokenizer, monkeypatch, max_batch=1)
    replies = complete_in_threads(client, QUESTIONS)
    assert counter.rows == [1] * len(QUESTIONS)
    assert all(r.completion_tokens > 0 for r in replies)


def test_the_max_batch_flag_reaches_the_local_client_and_a_bad_one_is_refused(tmp_path, capsys):
    from swe_srl.agent.factory import client_factory
    from swe_srl.cli import build_parser, main
    from swe_srl.config.evaluate import EvalConfig
    from swe_srl.flags import EVAL_FLAGS, config_from_args
    from swe_srl.train.tiny import save_tiny

    folder = save_tiny(tmp_path / "tiny")
    args = build_parser().parse_args(["eval", "--model", str(folder), "--out", str(tmp_path / "eval"),
                                      "--max-batch", "3"])
    config = config_from_args(args, EvalConfig, "eval", EVAL_FLAGS)
    assert config.client.max_batch == 3
    assert client_factory(config.client)()._batcher.max_batch == 3
    assert main(["eval", "--model", str(folder), "--out", str(tmp_path / "eval"), "--max-batch", "0"]) == 2
    assert "client.max_batch must be at least 1, got 0" in " ".join(capsys.readouterr().out.split())
    assert not (tmp_path / "eval").exists()
