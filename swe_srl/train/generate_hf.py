"""Rollouts with transformers' ``generate`` on the training model itself (CPU or GPU)."""

from __future__ import annotations

from typing import Any, Sequence

import torch

from swe_srl.train.rollout import Completion, Sampling


class TransformersBackend:
    """Samples from the very module being trained, so there are never weights to sync."""

    def __init__(self, model: Any, tokenizer: Any, *, batch_size: int = 64) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        self.eos_id = tokenizer.eos_token_id

    def sync_weights(self, model: Any) -> None:
        self.model = model  # same module object: nothing to copy

    @torch.no_grad()
    def generate(self, prompts: Sequence[Sequence[int]], n: int, sampling: Sampling) -> list[list[Completion]]:
        was_training = self.model.training
        self.model.eval()
        try:
            out: list[list[Completion]] = []
            for start in range(0, len(prompts), self.batch_size):
                out.extend(self._generate_chunk(prompts[start : start + self.batch_size], n, sampling))
            return out
        finally:
            self.model.train(was_training)

    def _generate_chunk(self, prompts: Sequence[Sequence[int]], n: int, sampling: Sampling) -> list[list[Completion]]:
        device = next(self.model.parameters()).device
        width = max(len(p) for p in prompts)
        # Left padding keeps every prompt's last token at the same position for decoding.
        ids = torch.full((len(prompts), width), self.pad_id, dtype=torch.long)
        attention = torch.zeros((len(prompts), width), dtype=torch.long)
        for row, prompt in enumerate(prompts):
            ids[row, width - len(prompt) :] = torch.tensor(list(prompt), dtype=torch.long)
            attention[row, width - len(prompt) :] = 1
        generated = self.model.generate(
            input_ids=ids.to(device),
            attention_mask=attention.to(device),
            do_sample=True,
            temperature=sampling.temperature,
            top_p=sampling.top_p,
            top_k=0,  # pure temperature sampling, as vLLM does by default
            max_new_tokens=sampling.max_new_tokens,
            num_return_sequences=n,
            pad_token_id=self.pad_id,
            eos_token_id=self.eos_id,
        )
        new_tokens = generated[:, width:].tolist()
        groups: list[list[Completion]] = []
        for row in range(len(prompts)):
            group = []
            for tokens in new_tokens[row * n : (row + 1) * n]:
                finished = self.eos_id in tokens
                if finished:
                    tokens = tokens[: tokens.index(self.eos_id) + 1]
                text = self.tokenizer.decode(tokens, skip_special_tokens=True)
                group.append(Completion(token_ids=tuple(tokens), text=text, finished=finished))
            groups.append(group)
        return groups
