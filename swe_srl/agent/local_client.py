"""A local transformers model as a ModelClient (CPU tests, small GPUs, a trained checkpoint).

The prompt goes through the tokenizer's own chat template, as in training; greedy decoding when
``temperature`` is 0 (the paper evaluates greedily), sampling otherwise.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Sequence

from swe_srl.agent.batcher import MicroBatcher
from swe_srl.agent.client import ModelReply
from swe_srl.batch_decoding import cut_at_eos, left_pad
from swe_srl.stepwise import Message


class TransformersClient:
    """Generates with ``model.generate`` on the model's device, batching the prompts of concurrent callers.

    Parallel jobs share one client; their ``complete`` calls are gathered into batches of up to
    ``max_batch`` left-padded prompts (``agent.batcher``), and their sandboxes work on while the model
    answers. ``max_batch=1`` generates one reply at a time.
    """

    def __init__(self, model: Any, tokenizer: Any, *, name: str = "local", max_new_tokens: int = 1024,
                 temperature: float = 0.0, top_p: float = 1.0, max_context: int | None = None,
                 max_batch: int = 8) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.name = name
        self.max_new_tokens = max_new_tokens
        self.temperature = temperature
        self.top_p = top_p
        self.max_context = max_context  # prompts longer than this keep their last tokens
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        self._batcher: MicroBatcher[list[int], tuple[list[int], bool]] = MicroBatcher(
            self._generate, max_batch=max_batch)

    @classmethod
    def from_pretrained(cls, path: str | Path, *, device: str | None = None, dtype: str = "auto", **kwargs: Any) -> "TransformersClient":
        """Load a model folder (a checkpoint, or ``save_tiny``'s output)."""
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(path)
        model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype)
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        model.to(device).eval()
        kwargs.setdefault("name", Path(path).name or str(path))
        return cls(model, tokenizer, **kwargs)

    def prompt_ids(self, messages: Sequence[Message]) -> list[int]:
        """The token ids of the chat-templated prompt with an opened assistant turn."""
        text = self.tokenizer.apply_chat_template(
            [{"role": m.role, "content": m.content} for m in messages], tokenize=False, add_generation_prompt=True
        )
        ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
        if self.max_context is not None and len(ids) > self.max_context:
            ids = ids[-self.max_context:]
        return ids

    def complete(self, messages: Sequence[Message]) -> ModelReply:
        start = time.perf_counter()
        ids = self.prompt_ids(messages)
        new, finished = self._batcher.submit(ids)
        text = self.tokenizer.decode(new, skip_special_tokens=True)
        return ModelReply(text=text, prompt_tokens=len(ids), completion_tokens=len(new),
                          seconds=time.perf_counter() - start, finish_reason="stop" if finished else "length")

    def _generate(self, prompts: list[list[int]]) -> list[tuple[list[int], bool]]:
        """Each prompt's new tokens, cut after the first end-of-sequence token, and whether it had one."""
        import torch

        device = next(self.model.parameters()).device
        rows, mask = left_pad(prompts, self.pad_id)
        sampling: dict[str, Any] = {"do_sample": False}
        if self.temperature > 0:
            sampling = {"do_sample": True, "temperature": self.temperature, "top_p": self.top_p, "top_k": 0}
        with torch.no_grad():
            out = self.model.generate(
                input_ids=torch.tensor(rows, dtype=torch.long, device=device),
                attention_mask=torch.tensor(mask, dtype=torch.long, device=device),
                max_new_tokens=self.max_new_tokens,
                pad_token_id=self.pad_id,
                eos_token_id=self.tokenizer.eos_token_id,
                **sampling,
            )
        return [cut_at_eos(row, self.tokenizer.eos_token_id) for row in out[:, len(rows[0]):].tolist()]

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return token_counts(self.tokenizer, texts)


def token_counts(tokenizer: Any, texts: Sequence[str]) -> list[int]:
    """Exact token counts of ``texts`` (no special tokens added), in one batched call of ``tokenizer``."""
    if not texts:
        return []
    return [len(ids) for ids in tokenizer(list(texts), add_special_tokens=False)["input_ids"]]
