"""Bytes of one micro-batch's update beyond the training state: activations, the log-prob peak, the block mask.

Arithmetic over a ModelShape, following the code it describes; tests/train/test_memory_plan.py checks
it against what small Qwen2 models hold on CPU (within 10%):

- activations saved for backward, per token of a decoder block (RMSNorm upcasts to float32,
  attention reads k and v repeated to every head when a mask is passed, as the packed and padded
  paths do): ``2*4h + b*(4h + 2*q + 2*q) + 4*heads + 8 + 4*b*I`` bytes in compute dtype b;
  with gradient checkpointing only the block's input ``b*h`` stays, and backward recomputes one
  block at a time. Outside the blocks: the final norm and the rotary tables.
- the backward pass's working set beyond the saved tensors, as a share of one block's activations
  (``BACKWARD_BLOCKS``), and the log-prob peak per logit of a chunk (``LOGPROB_BYTES_PER_LOGIT``:
  bf16 logits, their float32 copy, the log-softmax's and the backward's float32 temporaries) are
  measured values, checked by the same tests.
- the shared-prefix path's block mask is a bool [T, T]; attention keeps a copy in compute dtype per
  block (one at a time under checkpointing).
- a micro-batch's peak is its saved activations plus the larger of backward's working set in the
  blocks and the log-prob peak at the head: they come at different times.
"""

from __future__ import annotations

from swe_srl.train.logprobs import LOGPROB_CHUNK
from swe_srl.train.model_shape import ModelShape

DTYPE_BYTES = {"float32": 4, "bfloat16": 2, "float16": 2}
LORA_BYTES = 4  # peft keeps adapters in float32 over a 16-bit base (autocast_adapter_dtype)
LOGPROB_BYTES_PER_LOGIT = 16  # measured: peak bytes per element of a chunk x vocabulary logit block
BACKWARD_BLOCKS = {True: 1.25, False: 0.5}  # measured: backward's working set, in blocks' activations (checkpointing on/off)


def block_activations(shape: ModelShape, b: int) -> int:
    """Bytes per token a decoder block saves for backward (see the module docstring)."""
    h, q = shape.hidden_size, shape.q_dim
    return 2 * 4 * h + b * (4 * h + 2 * q + 2 * q) + 4 * shape.num_heads + 8 + 4 * b * shape.intermediate_size


def saved_activations(shape: ModelShape, b: int, tokens: int, checkpointing: bool) -> float:
    """Bytes saved for backward by one forward over ``tokens`` (the output head aside)."""
    per_block = b * shape.hidden_size if checkpointing else block_activations(shape, b)
    outside = 4 * shape.hidden_size + 2 * b * shape.hidden_size + 2 * b * shape.head_dim + 4  # final norm, rotary
    return tokens * (shape.num_layers * per_block + outside)


def peak_activations(shape: ModelShape, b: int, tokens: int, checkpointing: bool) -> float:
    """Saved activations plus backward's working set (recomputing one block under checkpointing)."""
    working = BACKWARD_BLOCKS[checkpointing] * tokens * block_activations(shape, b)
    return saved_activations(shape, b, tokens, checkpointing) + working


def logprob_peak(shape: ModelShape, positions: int) -> float:
    """The output head's peak: ``LOGPROB_CHUNK`` positions' logits at a time (swe_srl.train.logprobs)."""
    return min(LOGPROB_CHUNK, positions) * shape.vocab_size * LOGPROB_BYTES_PER_LOGIT


def saved_mask_bytes(shape: ModelShape, b: int, tokens: int, checkpointing: bool) -> float:
    """The packed path's block mask after the forward: the bool [T, T], and without checkpointing the copy
    in compute dtype that each block's attention makes of it and keeps for backward."""
    return tokens * tokens * (1 + (0 if checkpointing else b * shape.num_layers))


def mask_bytes(shape: ModelShape, b: int, tokens: int, checkpointing: bool) -> float:
    """The block mask at its peak: under checkpointing, one block's copy comes back while it is recomputed."""
    return saved_mask_bytes(shape, b, tokens, checkpointing) + (b * tokens * tokens if checkpointing else 0)


def micro_batch_peak(shape: ModelShape, b: int, tokens: int, positions: int, checkpointing: bool, packed: bool) -> float:
    """One micro-batch's peak beyond the training state: the saved activations, plus whichever is larger of
    backward's working set in the blocks and the output head's log-prob peak (they come at different
    times), plus the block mask when packed."""
    saved = saved_activations(shape, b, tokens, checkpointing)
    working = peak_activations(shape, b, tokens, checkpointing) - saved
    if packed:  # the recomputed block's mask copy belongs to the blocks' working set
        saved += saved_mask_bytes(shape, b, tokens, checkpointing)
        working += mask_bytes(shape, b, tokens, checkpointing) - saved_mask_bytes(shape, b, tokens, checkpointing)
    return saved + max(working, logprob_peak(shape, positions))
