"""Log-probs through the chunked output head: the same values and gradients as full logits, with no
tensor of positions x vocabulary alive on either path."""

from __future__ import annotations

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from swe_srl.train import logprobs
from swe_srl.train.logprobs import packed_logprobs, plain_logprobs
from swe_srl.train.tiny import tiny_model, tiny_tokenizer

CPU = torch.device("cpu")


class _LargestLogits(TorchDispatchMode):
    """The most elements of any op output shaped like logits (last dimension the vocabulary), forward
    and backward."""

    def __init__(self, vocab: int) -> None:
        super().__init__()
        self.vocab = vocab
        self.largest = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for value in out if isinstance(out, (tuple, list)) else (out,):
            if isinstance(value, torch.Tensor) and value.dim() and value.shape[-1] == self.vocab:
                self.largest = max(self.largest, value.numel())
        return out


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return tiny_model(tiny_tokenizer()).eval()


def _pairs(vocab: int) -> list[tuple[list[int], list[int]]]:
    generator = torch.Generator().manual_seed(3)
    draw = lambda n: torch.randint(5, vocab, (n,), generator=generator).tolist()  # noqa: E731
    prompt = draw(40)
    return [(prompt, draw(100)), (prompt, draw(80)), (draw(30), draw(120))]  # more positions than hidden units


def _with_full_logits(monkeypatch):
    monkeypatch.setattr(logprobs, "_head_gives_logprobs", lambda model, labels: _NoChunks())


class _NoChunks:
    def __enter__(self):
        return False

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize("path", ["plain", "packed"])
def test_chunks_give_the_full_logits_values_and_gradients(model, monkeypatch, path):
    pairs = _pairs(model.config.vocab_size)
    compute = (lambda: packed_logprobs(model, pairs, CPU)) if path == "packed" else \
        (lambda: plain_logprobs(model, pairs, CPU, pad_id=0))

    def value_and_grads():
        model.zero_grad()
        values, mask = compute()
        (values * mask).sum().backward()
        return values.detach(), [p.grad.clone() for p in model.parameters() if p.grad is not None]

    monkeypatch.setattr(logprobs, "LOGPROB_CHUNK", 5)  # several chunks, one of them short
    chunked, chunked_grads = value_and_grads()
    monkeypatch.undo()
    _with_full_logits(monkeypatch)
    full, full_grads = value_and_grads()
    torch.testing.assert_close(chunked, full, rtol=0, atol=1e-5)
    assert len(chunked_grads) == len(full_grads)
    for a, b in zip(chunked_grads, full_grads):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("path", ["plain", "packed"])
def test_no_tensor_of_positions_times_vocabulary_is_made(model, monkeypatch, path):
    pairs = _pairs(model.config.vocab_size)
    vocab = model.config.vocab_size
    monkeypatch.setattr(logprobs, "LOGPROB_CHUNK", 4)
    with _LargestLogits(vocab) as seen:
        values, mask = packed_logprobs(model, pairs, CPU) if path == "packed" else \
            plain_logprobs(model, pairs, CPU, pad_id=0)
        (values * mask).sum().backward()
    positions = int(mask.sum())
    weight = vocab * model.config.hidden_size  # the head's weight gradient is this big on either path
    assert positions > 4 * model.config.hidden_size
    assert seen.largest <= max(4 * vocab, weight), (seen.largest, positions * vocab)
    monkeypatch.undo()
    _with_full_logits(monkeypatch)
    with _LargestLogits(vocab) as full:
        values, mask = packed_logprobs(model, pairs, CPU) if path == "packed" else \
            plain_logprobs(model, pairs, CPU, pad_id=0)
        (values * mask).sum().backward()
    assert full.largest >= positions * vocab  # what the chunks avoid
