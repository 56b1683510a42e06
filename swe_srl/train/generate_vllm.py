"""Rollouts with vLLM (GPU), behind the same Protocol as the transformers backend.

Written against vLLM 0.33 (the ``[vllm]`` extra's range; another version is refused at start).
vLLM is imported only when this backend is built, so the package works without it. The engine
runs in the trainer's process for every launch shape (``VLLM_ENABLE_V1_MULTIPROCESSING=0``;
under FSDP with ``external_launcher``, one engine per rank), as TRL's colocate mode does, so
weights pass to it without a copy through another process. Prefix caching is on because
consecutive step-wise prompts of one trajectory share their long head (system prompt and issue).

After each optimizer step the trainer calls ``sync_weights``: full weights go through the
workers' ``reload_weights``; LoRA adapters are saved under the run's output dir and served as a
new LoRARequest (vLLM caches adapters by id), the previous version's folder removed, so only the
live adapter is on disk and ``close`` removes it.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any, Sequence

from swe_srl.config import TrainConfig
from swe_srl.errors import ConfigError
from swe_srl.train.distributed import World, full_tensors
from swe_srl.train.rollout import Completion, Sampling, engine_length

TESTED_VLLM = (0, 33)  # major, minor: the [vllm] extra's pin (pyproject.toml) and README's tested range
LORA_RANKS = (1, 8, 16, 32, 64, 128, 256, 320, 512)  # the max_lora_rank values vLLM 0.33 accepts (MaxLoRARanks)


def check_version(version: str) -> None:
    """Refuse a vLLM this adapter was not written against (its engine API moves between minor versions)."""
    found = re.match(r"(\d+)\.(\d+)", version)
    if found is None or (int(found[1]), int(found[2])) != TESTED_VLLM:
        wanted = ".".join(map(str, TESTED_VLLM))
        raise ConfigError(f"vLLM {version} is installed; rollout.backend=vllm is tested with vLLM {wanted}.x only "
                          f"(Python >= 3.11): pip install 'swe-srl[vllm]', or use rollout.backend=transformers")


def max_lora_rank(r: int) -> int:
    """The smallest rank vLLM accepts as ``max_lora_rank`` that holds an adapter of rank ``r``."""
    for rank in LORA_RANKS:
        if rank >= r:
            return rank
    raise ConfigError(f"lora.r={r} is over vLLM's largest max_lora_rank {LORA_RANKS[-1]}: lower lora.r")


class VllmBackend:
    """Samples with a colocated, in-process ``vllm.LLM`` engine."""

    def __init__(self, config: TrainConfig, tokenizer: Any, world: World = World()) -> None:
        """The engine for ``config.model`` with ``config.rollout``'s vLLM settings, seeded per rank. Under
        FSDP (``world.sharded``): one engine in each process of the torchrun/accelerate launch, on that
        process's GPU, rather than an engine that starts its own workers."""
        os.environ["VLLM_ENABLE_V1_MULTIPROCESSING"] = "0"  # the engine core in this process: read at LLM()
        try:
            import vllm
        except ImportError:
            raise ConfigError("rollout.backend=vllm needs vLLM: pip install 'swe-srl[vllm]' (GPU only)") from None
        check_version(vllm.__version__)
        self._vllm = vllm
        self.tokenizer = tokenizer
        self.lora_rank = lora_rank = config.lora.r if config.lora.enabled else 0
        # One folder per rank: every rank of an FSDP run saves its adapter for its own engine.
        self._lora_dir = Path(config.run.output_dir) / f"rollout-adapter-rank{world.rank}"
        self._lora_version = 0
        # Sleep while the policy updates: LoRA keeps the base weights (level 1); full fine-tuning
        # drops them (level 2), since sync_weights pushes new ones anyway.
        self._sleep_level = (1 if lora_rank > 0 else 2) if config.rollout.vllm_sleep else 0
        self._sleeping: set[str] = set()  # the engine's parts a sleep released: "weights", "kv_cache"
        self.llm = vllm.LLM(
            model=config.model.path,
            dtype=config.model.dtype,
            enable_prefix_caching=True,
            enable_lora=lora_rank > 0,
            max_lora_rank=max_lora_rank(max(lora_rank, 1)),
            gpu_memory_utilization=config.rollout.vllm_gpu_memory_utilization,
            max_model_len=engine_length(config),
            seed=config.run.seed + world.rank,
            enable_sleep_mode=self._sleep_level > 0,
            **({"distributed_executor_backend": "external_launcher"} if world.sharded else {}),
        )

    def pause(self) -> None:
        if self._sleep_level and not self._sleeping:
            self.llm.sleep(level=self._sleep_level)
            self._sleeping = {"weights", "kv_cache"}

    def sync_weights(self, model: Any) -> None:
        if self.lora_rank > 0:
            # A fresh id per version (vLLM caches adapters by id); only the live version stays on disk.
            self._lora_version += 1
            model.save_pretrained(self._adapter_path(self._lora_version))
            shutil.rmtree(self._adapter_path(self._lora_version - 1), ignore_errors=True)
            self._wake(["weights", "kv_cache"])
            return
        # Weights first, the KV cache once they are in, so the two never hold GPU memory at once
        # with the old weights' copy. Under FSDP each tensor is gathered whole as the engine takes it.
        self._wake(["weights"])
        weights = full_tensors(iter(model.state_dict().items()))
        self.llm.collective_rpc("reload_weights", kwargs={"weights_iterator": weights, "is_checkpoint_format": True})
        self._wake(["kv_cache"])
        self.llm.reset_prefix_cache()  # cached KV came from the old weights

    def _wake(self, tags: list[str]) -> None:
        asleep = [tag for tag in tags if tag in self._sleeping]
        if asleep:
            self.llm.wake_up(tags=asleep)
            self._sleeping -= set(asleep)

    def close(self) -> None:
        shutil.rmtree(self._lora_dir, ignore_errors=True)

    def _adapter_path(self, version: int) -> Path:
        return self._lora_dir / f"v{version}"

    def generate(self, prompts: Sequence[Sequence[int]], n: int, sampling: Sampling) -> list[list[Completion]]:
        from vllm.inputs import TokensPrompt
        from vllm.lora.request import LoRARequest

        params = self._vllm.SamplingParams(
            n=n, temperature=sampling.temperature, top_p=sampling.top_p, max_tokens=sampling.max_new_tokens,
        )
        lora = None
        if self.lora_rank > 0 and self._lora_version > 0:
            version = self._lora_version
            lora = LoRARequest(f"policy-v{version}", version, str(self._adapter_path(version)))
        requests = [TokensPrompt(prompt_token_ids=list(p)) for p in prompts]
        outputs = self.llm.generate(requests, params, lora_request=lora, use_tqdm=False)
        # token_ids are as sampled: a completion that stopped (finish_reason "stop": an EOS or stop token)
        # already ends with that token, so nothing is appended; "length" means cut at max_tokens.
        return [[Completion(token_ids=tuple(sample.token_ids),
                            text=self.tokenizer.decode(sample.token_ids, skip_special_tokens=True),
                            finished=sample.finish_reason == "stop") for sample in output.outputs]
                for output in outputs]
