"""Rollouts with vLLM (GPU), behind the same Protocol as the transformers backend.

vLLM is imported only when this backend is built, so the package works without it. Prefix
caching is on because consecutive step-wise prompts of one trajectory share their long head
(system prompt and issue). After each optimizer step the trainer calls ``sync_weights``: full
weights are loaded into the engine's model in place; LoRA adapters are saved to a folder and
served as a new LoRARequest, so the base weights never move.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Sequence

from swe_srl.config import TrainConfig
from swe_srl.errors import ConfigError
from swe_srl.train.distributed import World, full_tensors
from swe_srl.train.rollout import Completion, Sampling


class VllmBackend:
    """Samples with a colocated ``vllm.LLM`` engine."""

    def __init__(self, config: TrainConfig, tokenizer: Any, world: World = World()) -> None:
        """The engine for ``config.model`` with ``config.rollout``'s vLLM settings, seeded per rank. Under
        FSDP (``world.sharded``): one engine in each process of the torchrun/accelerate launch, on that
        process's GPU, rather than an engine that starts its own workers."""
        try:
            import vllm
        except ImportError:
            raise ConfigError("rollout.backend=vllm needs vLLM: pip install 'swe-srl[vllm]' (GPU only)") from None
        self._vllm = vllm
        self.tokenizer = tokenizer
        self.lora_rank = lora_rank = config.lora.r if config.lora.enabled else 0
        self._lora_dir = Path(tempfile.mkdtemp(prefix="swe-srl-lora-"))
        self._lora_version = 0
        self.llm = vllm.LLM(
            model=config.model.path,
            dtype=config.model.dtype,
            enable_prefix_caching=True,
            enable_lora=lora_rank > 0,
            max_lora_rank=max(lora_rank, 8),
            gpu_memory_utilization=config.rollout.vllm_gpu_memory_utilization,
            max_model_len=config.rollout.vllm_max_model_len,
            seed=config.run.seed + world.rank,
            **({"distributed_executor_backend": "external_launcher"} if world.sharded else {}),
        )

    def sync_weights(self, model: Any) -> None:
        if self.lora_rank > 0:
            # A fresh adapter name per version: vLLM caches adapters by id.
            self._lora_version += 1
            path = self._lora_dir / f"v{self._lora_version}"
            model.save_pretrained(path)
            return
        engine_model = self.llm.llm_engine.model_executor.driver_worker.model_runner.model
        # Under FSDP each tensor is gathered whole as the engine takes it (every rank syncs its engine).
        engine_model.load_weights(full_tensors(iter(model.state_dict().items())))
        self.llm.reset_prefix_cache()  # cached KV came from the old weights

    def generate(self, prompts: Sequence[Sequence[int]], n: int, sampling: Sampling) -> list[list[Completion]]:
        vllm = self._vllm
        params = vllm.SamplingParams(
            n=n, temperature=sampling.temperature, top_p=sampling.top_p, max_tokens=sampling.max_new_tokens,
        )
        lora = None
        if self.lora_rank > 0 and self._lora_version > 0:
            from vllm.lora.request import LoRARequest

            version = self._lora_version
            lora = LoRARequest(f"policy-v{version}", version, str(self._lora_dir / f"v{version}"))
        requests = [vllm.inputs.TokensPrompt(prompt_token_ids=list(p)) for p in prompts]
        outputs = self.llm.generate(requests, params, lora_request=lora, use_tqdm=False)
        eos = self.tokenizer.eos_token_id
        groups = []
        for output in outputs:
            group = []
            for sample in output.outputs:
                tokens = tuple(sample.token_ids)
                finished = sample.finish_reason == "stop"
                if finished and (not tokens or tokens[-1] != eos):
                    tokens = tokens + (eos,)  # train on the stop token, as the HF backend does
                group.append(Completion(token_ids=tokens, text=self.tokenizer.decode(tokens, skip_special_tokens=True),
                                        finished=finished))
            groups.append(group)
        return groups
