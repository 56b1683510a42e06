"""A local transformers model as a ModelClient (CPU tests, small GPUs, a trained checkpoint).

The prompt goes through the tokenizer's own chat template, as in training; greedy decoding when
``temperature`` is 0 (the paper evaluates greedily), sampling otherwise.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, Sequence

from swe_srl.agent.client import ModelReply
from swe_srl.stepwise import Message


class TransformersClient:
    """Generates with ``model.generate`` on the model's device."""

    def __init__(self, model: Any, tokenizer: Any, *, name: str = "local", max_new_tokens: int = 1024,
                 temperature: float = 0.0, top_p: float = 1.0, max_context: int | None = None) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.name = name
        self.max_new_tokens = max_new_tokens
        self.temperature = temperature
        self.top_p = top_p
        self.max_context = max_context  # prompts longer than this keep their last tokens
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        # One generation at a time: parallel jobs share the client, and their sandboxes still
        # work in parallel while one of them waits for the model.
        self._lock = threading.Lock()

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
        import torch

        start = time.perf_counter()
        ids = self.prompt_ids(messages)
        device = next(self.model.parameters()).device
        sampling: dict[str, Any] = {"do_sample": False}
        if self.temperature > 0:
            sampling = {"do_sample": True, "temperature": self.temperature, "top_p": self.top_p, "top_k": 0}
        with self._lock, torch.no_grad():
            out = self.model.generate(
                input_ids=torch.tensor([ids], device=device),
                attention_mask=torch.ones((1, len(ids)), dtype=torch.long, device=device),
                max_new_tokens=self.max_new_tokens,
                pad_token_id=self.pad_id,
                eos_token_id=self.tokenizer.eos_token_id,
                **sampling,
            )
        new = out[0, len(ids):].tolist()
        finished = self.tokenizer.eos_token_id in new
        if finished:
            new = new[: new.index(self.tokenizer.eos_token_id) + 1]
        text = self.tokenizer.decode(new, skip_special_tokens=True)
        return ModelReply(text=text, prompt_tokens=len(ids), completion_tokens=len(new),
                          seconds=time.perf_counter() - start, finish_reason="stop" if finished else "length")

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return token_counts(self.tokenizer, texts)


def token_counts(tokenizer: Any, texts: Sequence[str]) -> list[int]:
    """Exact token counts of ``texts`` (no special tokens added), in one batched call of ``tokenizer``."""
    if not texts:
        return []
    return [len(ids) for ids in tokenizer(list(texts), add_special_tokens=False)["input_ids"]]
