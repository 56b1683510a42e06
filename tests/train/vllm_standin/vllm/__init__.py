"""A stand-in for vLLM 0.33.0 in the tests: the classes and calls swe_srl's VllmBackend uses, with the
released signatures and return shapes (vllm/entrypoints/llm.py, vllm/outputs.py, vllm/sampling_params.py),
and the checks of the real engine that the adapter must pass, but no engine: completions are
``LLM.reply`` (set by the test), cut at ``max_tokens``.

Modelled behaviour, each from 0.33.0's source:
- ``LLM(max_lora_rank=...)`` takes only ``MaxLoRARanks`` (vllm/config/lora.py);
- ``generate`` refuses the whole call when one prompt has ``max_model_len`` tokens or more
  (vllm/v1/engine/input_processor.py);
- the engine core runs in its own process unless ``VLLM_ENABLE_V1_MULTIPROCESSING=0``; only then
  does ``llm.llm_engine.model_executor`` exist (vllm/v1/engine/llm_engine.py), and ``collective_rpc``
  arguments cross a process boundary (a generator cannot);
- a LoRARequest's adapter is read from ``lora_path`` the first time its id is used;
- ``token_ids`` of a completion that stopped end with the stop token; ``stop_reason`` is None on EOS;
- ``sleep(level)`` needs ``enable_sleep_mode=True`` and resets the prefix cache; level 1 keeps the
  weights (in CPU memory), level 2 discards them, so after ``wake_up`` the engine samples garbage
  until weights are loaded again (the stand-in refuses to generate then, so the fault shows);
  ``wake_up(tags)`` restores "weights" and/or "kv_cache" (both when None); nothing generates asleep.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar, Sequence

from vllm import inputs  # noqa: F401  (vllm.inputs, as the real package exposes it)
from vllm.lora.request import LoRARequest

__version__ = "0.33.0"
MAX_LORA_RANKS = (1, 8, 16, 32, 64, 128, 256, 320, 512)


@dataclass
class SamplingParams:
    """The fields of vllm.SamplingParams the adapter may set (keyword-only, as msgspec builds them)."""

    n: int = 1
    temperature: float = 1.0
    top_p: float = 1.0
    seed: int | None = None
    stop_token_ids: list[int] | None = None
    max_tokens: int | None = 16


@dataclass
class CompletionOutput:
    index: int
    text: str
    token_ids: Sequence[int]
    cumulative_logprob: float | None
    logprobs: Any
    routed_experts: Any = None
    finish_reason: str | None = None
    stop_reason: int | str | None = None
    lora_request: LoRARequest | None = None


@dataclass
class RequestOutput:
    request_id: str
    prompt: str | None
    prompt_token_ids: list[int] | None
    prompt_logprobs: Any
    outputs: list[CompletionOutput]
    finished: bool
    lora_request: LoRARequest | None = None


@dataclass
class _Worker:
    """What the adapter reaches on a worker: its weight reload (vllm/v1/worker/gpu_worker.py)."""

    weights: dict[str, Any] = field(default_factory=dict)  # name -> tensor, as last reloaded
    reloads: int = 0

    def reload_weights(self, weights_iterator=None, weights_path=None, is_checkpoint_format=True) -> None:
        self.weights = {name: tensor.detach().clone() for name, tensor in weights_iterator}
        self.reloads += 1


class _Engine:
    def __init__(self, in_process: bool, worker: _Worker) -> None:
        self.in_process = in_process
        if in_process:  # "for v0 compatibility" in the real LLMEngine; absent with a separate engine core
            self.model_executor = type("Executor", (), {"driver_worker": worker})()


class LLM:
    last: ClassVar[LLM | None] = None  # the newest engine, for the test to inspect
    reply: ClassVar[tuple[int, ...]] = (5, 6)  # what every completion samples
    stop_reason: ClassVar[int | str | None] = None  # None: stopped on EOS

    def __init__(self, model: str, *, tokenizer: str | None = None, dtype: str = "auto", seed: int = 0,
                 gpu_memory_utilization: float = 0.92, **kwargs: Any) -> None:
        if kwargs.get("max_lora_rank", 16) not in MAX_LORA_RANKS:
            raise ValueError(f"max_lora_rank: Input should be {MAX_LORA_RANKS}, got {kwargs['max_lora_rank']}")
        self.model, self.dtype, self.seed, self.kwargs = model, dtype, seed, kwargs
        self.max_model_len = kwargs.get("max_model_len") or 32768
        self.worker = _Worker()
        self.llm_engine = _Engine(os.environ.get("VLLM_ENABLE_V1_MULTIPROCESSING", "1") == "0", self.worker)
        self.calls: list[str] = []  # generate, collective_rpc:<method>, reset_prefix_cache, in order
        self.prompts: list[list[int]] = []  # every prompt generate took
        self.loras: dict[int, str] = {}  # adapter id -> the path it was read from
        self.asleep: set[str] = set()  # the parts a sleep released and no wake_up restored yet
        self.weights_lost = False  # a level-2 sleep discarded the weights; only a reload brings them back
        LLM.last = self

    def sleep(self, level: int = 1) -> None:
        if not self.kwargs.get("enable_sleep_mode"):
            raise ValueError("Sleep mode is not enabled. Please compile with enable_sleep_mode=True")
        self.reset_prefix_cache()
        self.calls.append(f"sleep:{level}")
        self.asleep = {"weights", "kv_cache"}
        self.weights_lost = self.weights_lost or level == 2

    def wake_up(self, tags: list[str] | None = None) -> None:
        self.calls.append(f"wake_up:{','.join(tags) if tags else 'all'}")
        self.asleep -= set(tags or ("weights", "kv_cache"))

    def generate(self, prompts: Any, sampling_params: SamplingParams | None = None, *,
                 use_tqdm: bool | Callable[..., Any] = True, lora_request: LoRARequest | None = None,
                 priority: Any = None, tokenization_kwargs: Any = None, mm_processor_kwargs: Any = None,
                 ) -> list[RequestOutput]:
        params = sampling_params or SamplingParams()
        if self.asleep or self.weights_lost:
            raise RuntimeError(f"generate on a sleeping engine (asleep: {sorted(self.asleep)}, weights "
                               f"{'discarded' if self.weights_lost else 'kept'})")
        ids = [list(p["prompt_token_ids"]) for p in prompts]
        for prompt in ids:
            if len(prompt) >= self.max_model_len:
                raise ValueError(f"The decoder prompt (length {len(prompt)}) plus the number of requested output "
                                 f"tokens (at least 1) is longer than the maximum model length of {self.max_model_len}")
        if lora_request is not None:
            self._load_lora(lora_request)
        self.calls.append("generate")
        self.prompts += ids
        cut = self.reply[:params.max_tokens]
        finish, stop = ("stop", self.stop_reason) if len(cut) == len(self.reply) else ("length", None)
        return [RequestOutput(str(i), None, prompt, None, [
            CompletionOutput(j, "", list(cut), None, None, finish_reason=finish, stop_reason=stop,
                             lora_request=lora_request) for j in range(params.n)], True, lora_request)
            for i, prompt in enumerate(ids)]

    def _load_lora(self, request: LoRARequest) -> None:
        if not self.kwargs.get("enable_lora"):
            raise ValueError("LoRA is not enabled")
        if request.lora_int_id not in self.loras:
            if not (Path(request.lora_path) / "adapter_config.json").exists():
                raise ValueError(f"Loading lora {request.lora_name} failed: no adapter at {request.lora_path}")
            self.loras[request.lora_int_id] = request.lora_path

    def collective_rpc(self, method: str | Callable[..., Any], timeout: float | None = None, args: tuple = (),
                       kwargs: dict[str, Any] | None = None) -> list[Any]:
        kwargs = kwargs or {}
        if not self.llm_engine.in_process and any(hasattr(v, "__next__") for v in (*args, *kwargs.values())):
            raise TypeError("cannot pickle 'generator' object")  # sent to the engine core's process
        self.calls.append(f"collective_rpc:{method}")
        if method == "reload_weights":
            if "weights" in self.asleep:
                raise RuntimeError("reload_weights while the weights are asleep: wake_up(tags=['weights']) first")
            self.weights_lost = False
        return [getattr(self.worker, method)(*args, **kwargs)]  # the adapter sends method names only

    def reset_prefix_cache(self, reset_running_requests: bool = False, reset_connector: bool = False) -> bool:
        self.calls.append("reset_prefix_cache")
        return True
