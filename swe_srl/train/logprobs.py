"""Per-token log-probs of completions under a causal LM: the plain padded batch, or shared-prefix packs.

Both return the same [R, T] layout (row r = the r-th (prompt, completion) pair, token t of its
completion) with a 0/1 mask, so the loss cannot tell which computed them; ``CompletionLogprobs``
is a run's choice between them. ``shared_prefix_support`` decides, by inspecting and probing the
model, whether the packed path is exact for it.

Neither path materialises logits for every position at once: while the model runs, its output
head (a plain Linear, as in every causal LM transformers ships) returns log p(label) per position,
computed ``LOGPROB_CHUNK`` positions at a time and, under autograd, recomputed chunk by chunk in
the backward pass. Peak memory for the vocabulary projection is then chunk x vocabulary, not
positions x vocabulary (a 14k-token pack of a 152k vocabulary in float32 would be ~8 GiB, twice).
"""

from __future__ import annotations

import inspect
import logging
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

import torch
import torch.utils.checkpoint

from swe_srl.train.packing import Pair, block_mask, pack_row

log = logging.getLogger(__name__)

# transformers attention interfaces that take a ready 4D mask: sdpa (bool) and eager (additive).
# flash-attention kernels read only padding masks; flex attention wants a BlockMask.
MASKABLE_ATTENTION = ("sdpa", "eager")

# How far the probe's packed log-probs may stray from the plain ones (nats, max over tokens):
# float32 agrees to rounding; 16-bit dtypes round each layer's output differently per layout.
PROBE_TOLERANCE = {torch.float32: 1e-3, torch.float64: 1e-6}
PROBE_TOLERANCE_16BIT = 0.25


LOGPROB_CHUNK = 1024  # positions whose logits exist at once


def token_logprobs(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """log p(label) for each position: logits [..., V] already aligned with labels [...]."""
    logits = logits.float()
    return torch.gather(logits, -1, labels.unsqueeze(-1)).squeeze(-1) - logits.logsumexp(-1)


def _projected_logprobs(hidden: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None,
                        labels: torch.Tensor) -> torch.Tensor:
    return token_logprobs(torch.nn.functional.linear(hidden, weight, bias), labels)


def chunked_logprobs(hidden: torch.Tensor, head: torch.nn.Linear, labels: torch.Tensor, chunk: int) -> torch.Tensor:
    """log p(label) [...] from the head's inputs [..., H], ``chunk`` positions' logits at a time."""
    flat, flat_labels = hidden.reshape(-1, hidden.shape[-1]), labels.reshape(-1)
    parts = []
    for start in range(0, flat.shape[0], chunk):
        args = (flat[start:start + chunk], head.weight, head.bias, flat_labels[start:start + chunk])
        if torch.is_grad_enabled():  # keep only the inputs; the chunk's logits are recomputed for backward
            parts.append(torch.utils.checkpoint.checkpoint(_projected_logprobs, *args, use_reentrant=False))
        else:
            parts.append(_projected_logprobs(*args))
    return torch.cat(parts).reshape(labels.shape)


@contextmanager
def _head_gives_logprobs(model: Any, labels: torch.Tensor) -> Iterator[bool]:
    """While inside, the model's ``logits`` are log p(label) [..., 1] at each position it projects.

    ``labels`` must have the shape of the positions the head sees. Yields False (and changes
    nothing) when the output head is not a plain Linear; the caller then reads real logits.
    """
    head = _inner_model(model).get_output_embeddings()
    if type(head) is not torch.nn.Linear or "forward" in vars(head):  # another wrapper (accelerate's) is there
        yield False
        return
    head.forward = lambda hidden: chunked_logprobs(hidden, head, labels.reshape(hidden.shape[:-1]),
                                                   LOGPROB_CHUNK).unsqueeze(-1)
    try:
        yield True
    finally:
        del head.forward  # the class's forward again


def _inner_model(model: Any) -> Any:
    """The transformers model under a peft wrapper (or the model itself)."""
    get_base = getattr(model, "get_base_model", None)
    return get_base() if callable(get_base) else model


def _accepts(model: Any, argument: str) -> bool:
    try:
        return argument in inspect.signature(_inner_model(model).forward).parameters
    except (TypeError, ValueError):
        return False


def plain_logprobs(model: Any, pairs: Sequence[Pair], device: torch.device, pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Log-probs [R, T] and mask of each completion, one right-padded row per (prompt, completion)."""
    sequences = [list(p) + list(c) for p, c in pairs]
    width = max(len(s) for s in sequences)
    ids = torch.full((len(pairs), width), pad_id, dtype=torch.long)
    attention = torch.zeros((len(pairs), width), dtype=torch.long)
    for i, seq in enumerate(sequences):
        ids[i, : len(seq)] = torch.tensor(seq, dtype=torch.long)
        attention[i, : len(seq)] = 1
    ids, attention = ids.to(device), attention.to(device)
    labels = torch.cat([ids[:, 1:], ids[:, :1]], dim=1)  # position t predicts token t+1; the last, nothing
    with _head_gives_logprobs(model, labels) as chunked:
        logits = model(input_ids=ids, attention_mask=attention, use_cache=False).logits
    per_position = (logits[..., 0] if chunked else token_logprobs(logits, labels))[:, :-1]
    length = max(len(c) for _, c in pairs)
    index = torch.zeros((len(pairs), length), dtype=torch.long)
    mask = torch.zeros((len(pairs), length), dtype=torch.long)
    for i, (p, c) in enumerate(pairs):
        index[i, : len(c)] = torch.arange(len(p) - 1, len(p) - 1 + len(c))
        mask[i, : len(c)] = 1
    index, mask = index.to(device), mask.to(device)
    return torch.gather(per_position, 1, index) * mask, mask


def packed_logprobs(model: Any, pairs: Sequence[Pair], device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """The same log-probs from ONE unpadded packed row: each run of equal prompts computed once."""
    row = pack_row(pairs)
    impl = getattr(model.config, "_attn_implementation", None)
    # sdpa takes a bool mask as is; eager adds the mask to its scores, so it needs an additive one.
    dtype = None if impl == "sdpa" else next(model.parameters()).dtype
    kwargs: dict[str, Any] = {}
    positions, labels = row.logit_positions.to(device), row.labels.to(device)
    if _accepts(model, "logits_to_keep"):
        kwargs["logits_to_keep"] = positions  # the vocabulary projection only where it is read
    else:  # every position is projected: give each one a label (those off the completions are not read)
        labels = torch.zeros(row.input_ids.shape[-1], dtype=torch.long, device=device).index_copy(0, positions, labels)
    with _head_gives_logprobs(model, labels) as chunked:
        out = model(input_ids=row.input_ids.to(device), position_ids=row.position_ids.to(device),
                    attention_mask=block_mask(row, device, dtype), use_cache=False, **kwargs)
    values = out.logits[0, :, 0] if chunked else token_logprobs(out.logits[0], labels.reshape(-1))
    per_prediction = values if "logits_to_keep" in kwargs else values[positions]  # [K]
    mask = row.valid.to(device)
    return per_prediction[row.gather.to(device)] * mask, mask


@dataclass(frozen=True)
class CompletionLogprobs:
    """How a run computes completion log-probs: packed or plain, on which device, padding with what."""

    device: torch.device  # where this rank's model computes
    pad_id: int  # fills the plain path's padded rows (and FSDP's padding passes)
    shared: bool  # shared-prefix packs (``shared_prefix_support`` said yes) rather than padded rows

    def __call__(self, model: Any, pairs: Sequence[Pair]) -> tuple[torch.Tensor, torch.Tensor]:
        """Log-probs [R, T] of ``pairs``' completions under ``model``, and their 0/1 mask [R, T]."""
        if self.shared:
            return packed_logprobs(model, pairs, self.device)
        return plain_logprobs(model, pairs, self.device, self.pad_id)


def shared_prefix_support(model: Any) -> tuple[bool, str]:
    """Whether ``packed_logprobs`` is exact for ``model``, and why (for the log).

    Checked, not assumed: the attention interface must take a 4D mask, no layer may use a
    sliding window (the block mask would override it), and a probe forward with two completions
    of one prompt must give the plain path's log-probs.
    """
    config = getattr(model, "config", None)
    impl = getattr(config, "_attn_implementation", None)
    if impl not in MASKABLE_ATTENTION:
        return False, f"attention implementation {impl!r} takes no 4D block mask (needs one of {MASKABLE_ATTENTION})"
    layer_types = getattr(config, "layer_types", None) or []
    if any(kind != "full_attention" for kind in layer_types) or (
        getattr(config, "use_sliding_window", False) and getattr(config, "sliding_window", None)
    ):
        return False, "the model has sliding-window layers, which a single block mask would override"
    try:
        error, dtype = _probe_error(model)
    except Exception as exc:  # any failure of the probe means: do not trust the packed path
        return False, f"the probe forward with a block mask failed: {type(exc).__name__}: {exc}"
    tolerance = PROBE_TOLERANCE.get(dtype, PROBE_TOLERANCE_16BIT)
    if not error <= tolerance:
        return False, f"the probe's packed log-probs differ from the plain ones by {error:.3g} (> {tolerance:g})"
    return True, f"{impl} attention takes the block mask (probe error {error:.2g})"


@torch.no_grad()
def _probe_error(model: Any) -> tuple[float, torch.dtype]:
    """Max |packed - plain| log-prob over a random prompt with two completions of different lengths, and
    the dtype the model computes logits in (under FSDP mixed precision, not its float32 masters')."""
    vocab = int(getattr(model.config, "vocab_size", 0) or model.get_input_embeddings().num_embeddings)
    generator = torch.Generator().manual_seed(0)
    tokens = torch.randint(0, vocab, (16,), generator=generator).tolist()
    prompt, first, second = tokens[:7], tokens[7:11], tokens[11:16]
    pairs = [(prompt, first), (prompt, second)]
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()  # dropout would make the two paths differ for reasons that are not the mask
    try:
        plain, mask = plain_logprobs(model, pairs, device, pad_id=0)
        packed, _ = packed_logprobs(model, pairs, device)
        dtype = model(input_ids=torch.tensor([prompt[:2]], device=device), use_cache=False).logits.dtype
    finally:
        model.train(was_training)
    return float(((plain.float() - packed.float()).abs() * mask).max()), dtype
