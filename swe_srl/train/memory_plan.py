"""Per-GPU memory of an SRL run, from its config and the model's shape alone: arithmetic, no GPU.

Two phases share the GPU each step. Rollouts: the training state (weights, gradients kept from the
last step, AdamW's moments) beside vLLM's share (``rollout.vllm_gpu_memory_utilization`` of the
whole GPU: its weights, a runtime reserve, and a KV cache in what is left). The update: the same
state plus one micro-batch's activations, the chunked log-prob peak and vLLM asleep (or its whole
share with ``rollout.vllm_sleep=false``).

Weights, gradients and AdamW state are counted here (exact: tests/train/test_memory_plan.py
compares them byte for byte); a micro-batch's activations, log-prob peak and block mask are
swe_srl.train.memory_bytes'. LoRA keeps the base in ``model.dtype`` and the adapters (with their
gradients and moments) in float32, as peft makes them; full fine-tuning keeps everything in
``model.dtype``; FSDP keeps float32 masters, gradients and moments sharded over the ranks and
gathers the edge modules and two blocks at a time in the compute dtype (``distributed.shard``).

vLLM's non-KV reserve and the CUDA context are assumptions (``VLLM_RUNTIME``, ``CUDA_CONTEXT``),
not measurements: the first GPU run (benchmarks/gpu_check.py) prints predicted beside measured.
"""

from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Mapping

from swe_srl.config import TrainConfig
from swe_srl.errors import ConfigError
from swe_srl.prompt import PromptRecipe
from swe_srl.train.logprobs import LOGPROB_CHUNK
from swe_srl.train.memory_bytes import (DTYPE_BYTES, LORA_BYTES, logprob_peak, mask_bytes, micro_batch_peak,
                                        peak_activations)
from swe_srl.train.model_shape import ModelShape, model_shape, shape_from_config
from swe_srl.train.rollout import engine_length

log = logging.getLogger(__name__)

GIB = 2**30
MIB = 2**20
VLLM_RUNTIME = 2 * GIB  # assumed: vLLM's activations and CUDA graphs inside its share, besides weights and KV
VLLM_ASLEEP = 1 * GIB  # assumed: what a sleeping engine still holds
CUDA_CONTEXT = 1 * GIB  # assumed: the CUDA context and allocator slack of the training process
# Total memory as the driver reports it (nvidia-smi's MiB), by the names --gpu takes.
GPUS = {"80gb": ("H100 80GB", 81559 * MIB), "h100": ("H100 80GB", 81559 * MIB),
        "a100": ("A100 80GB", 81920 * MIB), "141gb": ("H200 141GB", 143771 * MIB),
        "h200": ("H200 141GB", 143771 * MIB)}
DEFAULT_PROMPT_BUDGET = PromptRecipe.__dataclass_fields__["max_prompt_tokens"].default  # data build's default


@dataclass(frozen=True)
class Lengths:
    """The prompt lengths to plan at, and the completion length."""

    prompt: Mapping[str, int]  # label (p50, p90, p99, max, or budget) -> prompt tokens
    completion: int  # tokens per completion: rollout.max_new_tokens, since a completion may run to it
    source: str  # where the prompt lengths came from, for the table


@dataclass(frozen=True)
class Row:
    """One line of the plan: bytes per GPU at each prompt length."""

    name: str
    bytes: tuple[float, ...]  # one per Lengths.prompt entry
    note: str = ""


@dataclass(frozen=True)
class MemoryPlan:
    """What one GPU holds in each phase, and whether it fits."""

    columns: tuple[str, ...]  # "p50 (2100 tok)", ...
    rows: tuple[Row, ...]  # the parts; "update peak" and "rollout peak" are sums of them
    update_peak: tuple[float, ...]  # per column
    rollout_peak: float  # training state + vLLM's share (or the transformers backend's KV cache at the longest prompt)
    kv_tokens: int  # tokens vLLM's share leaves for its KV cache (0 without vLLM)
    engine_length: int  # vLLM's max_model_len (0 without vLLM)
    gpu_name: str
    gpu_bytes: int
    world_size: int  # ranks the FSDP state is sharded over (1 without FSDP)
    shape_source: str  # where the model's shape came from
    lengths_source: str
    problems: tuple[str, ...]  # one line each, naming the setting to change; empty when the plan fits

    @property
    def fits(self) -> bool:
        return not self.problems


def gpu_memory(name: str) -> tuple[str, int]:
    """(label, bytes) for ``--gpu``: H100, H200, A100, 80GB, 141GB, or any ``<N>GiB``."""
    key = name.strip().lower().replace(" ", "")
    if key in GPUS:
        return GPUS[key]
    found = re.fullmatch(r"(\d+(?:\.\d+)?)gib", key)
    if found:
        return f"{found[1]} GiB", int(float(found[1]) * GIB)
    raise ConfigError(f"--gpu '{name}': give one of H100, H200, A100, 80GB, 141GB, or a size such as 96GiB")


def data_lengths(config: TrainConfig) -> Lengths:
    """Prompt-length percentiles from the ``data build`` summary at data.path; else the prompt budget."""
    completion = config.rollout.max_new_tokens
    path = Path(config.data.path) if config.data.path else None
    for folder in (path, path.parent) if path is not None else ():
        summary = folder / "summary.json"
        if summary.is_file():
            try:
                found = json.loads(summary.read_text())["prompt_tokens"]
            except (json.JSONDecodeError, KeyError, TypeError):
                raise ConfigError(f"{summary}: no prompt_tokens percentiles; rebuild the data with `swe-srl data build`") from None
            cap = config.data.max_prompt_tokens or max(found.values())
            return Lengths({k: min(int(v), cap) for k, v in found.items()}, completion, f"{summary} (prompt tokens)")
    budget = config.data.max_prompt_tokens or DEFAULT_PROMPT_BUDGET
    why = "data.max_prompt_tokens" if config.data.max_prompt_tokens else "data build's default budget"
    return Lengths({"budget": budget}, completion, f"no dataset summary at data.path; every prompt at {why} ({budget})")


def training_state(config: TrainConfig, shape: ModelShape, world_size: int) -> list[Row]:
    """Weights, gradients, AdamW moments (and FSDP's gathered blocks, a reference copy) per GPU."""
    b = DTYPE_BYTES[config.model.dtype]
    params = shape.parameters()
    if config.lora.enabled:
        adapters = shape.lora_parameters(config.lora.r, tuple(config.lora.target_modules))
        tensors = 2 * shape.num_layers * len(config.lora.target_modules)
        return [Row("weights", (params * b + adapters * LORA_BYTES,), f"{params / 1e9:.2f}B base in {config.model.dtype}, "
                    f"{adapters / 1e6:.1f}M LoRA (r={config.lora.r}) in float32"),
                Row("gradients", (adapters * LORA_BYTES,), "LoRA only"),
                Row("optimizer (AdamW)", (2 * adapters * LORA_BYTES + 4 * tensors,), "two moments per adapter weight")]
    if config.run.distributed == "fsdp":
        shard = params * 4 / world_size
        gathered = (shape.edge_parameters() + 2 * shape.block_parameters()) * b * 2
        return [Row("weights", (shard,), f"float32 masters / {world_size} ranks"),
                Row("gradients", (shard,), f"float32 / {world_size} ranks"),
                Row("optimizer (AdamW)", (2 * shard + 4 * shape.tensors(),), f"float32 moments / {world_size} ranks"),
                Row("FSDP gathered", (gathered,), f"edges + 2 blocks in {config.model.dtype}, with their gradients")]
    rows = [Row("weights", (params * b,), f"{params / 1e9:.2f}B in {config.model.dtype}"),
            Row("gradients", (params * b,), config.model.dtype),
            Row("optimizer (AdamW)", (2 * params * b + 4 * shape.tensors(),), f"two moments in {config.model.dtype}")]
    if config.grpo.kl_beta != 0.0 or config.grpo.log_kl:
        rows.append(Row("reference model", (params * b,), "frozen copy for the KL"))
    return rows


def forward_tokens(config: TrainConfig, prompt: int, completion: int, world_size: int) -> tuple[int, int]:
    """(tokens in one micro-batch's forward, positions whose log-probs it computes) at this prompt length."""
    g = config.grpo
    groups = max(1, math.ceil(g.prompts_per_step / world_size / max(1, g.updates_per_step)))
    generations = config.rollout.num_generations
    if g.shared_prefix:  # packs of at most pack_tokens; a group too long is split, each row with its prompt
        tokens = max(prompt + completion, min(g.pack_tokens, groups * (prompt + generations * completion)))
        return tokens, tokens - prompt
    rows = min(g.micro_batch_size, groups * generations)
    return rows * (prompt + completion), rows * (prompt + completion)


def plan_memory(config: TrainConfig, shape: ModelShape, lengths: Lengths, *, world_size: int, gpu: tuple[str, int],
                shape_source: str) -> MemoryPlan:
    """The per-GPU plan of ``config`` on ``gpu`` (label, bytes), with the FSDP state over ``world_size`` ranks."""
    if config.model.dtype not in DTYPE_BYTES:
        raise ConfigError(f"model.dtype '{config.model.dtype}' is not one of {', '.join(DTYPE_BYTES)}")
    world_size = world_size if config.run.distributed == "fsdp" else 1
    b, ckpt = DTYPE_BYTES[config.model.dtype], config.model.gradient_checkpointing
    gpu_name, gpu_bytes = gpu
    columns = tuple(f"{label} ({tokens} tok)" for label, tokens in lengths.prompt.items())
    width = len(columns)
    state = [Row(r.name, r.bytes * width, r.note) for r in training_state(config, shape, world_size)]
    resident = sum(r.bytes[0] for r in state)

    shapes = [forward_tokens(config, p, lengths.completion, world_size) for p in lengths.prompt.values()]
    layout = "packed" if config.grpo.shared_prefix else f"{config.grpo.micro_batch_size} padded rows"
    activations = Row(f"activations ({'checkpointed' if ckpt else 'no checkpointing'})",
                      tuple(peak_activations(shape, b, t, ckpt) for t, _ in shapes),
                      f"{layout}: {', '.join(str(t) for t, _ in shapes)} tokens")
    other = Row(f"activations ({'no checkpointing' if ckpt else 'checkpointed'}, for comparison)",
                tuple(peak_activations(shape, b, t, not ckpt) for t, _ in shapes), "not counted in the peak")
    logprobs = Row("log-prob peak", tuple(logprob_peak(shape, n) for _, n in shapes),
                   f"{LOGPROB_CHUNK} positions x {shape.vocab_size} vocabulary")
    update_rows = [activations, logprobs]
    if config.grpo.shared_prefix:
        update_rows.append(Row("block mask", tuple(mask_bytes(shape, b, t, ckpt) for t, _ in shapes),
                               f"bool [T, T] and attention's {config.model.dtype} copy"))

    vllm = config.rollout.backend == "vllm"
    share = config.rollout.vllm_gpu_memory_utilization * gpu_bytes
    kv_per_token = 2 * shape.num_layers * shape.kv_dim * b
    kv_tokens, length, engine_fixed, engine_rows = 0, 0, 0.0, []
    if vllm:
        length = engine_length(config)
        adapters = shape.lora_parameters(config.lora.r, tuple(config.lora.target_modules)) if config.lora.enabled else 0
        engine_weights = (shape.parameters() + adapters) * b
        engine_fixed = engine_weights + VLLM_RUNTIME
        kv_tokens = max(0, int((share - engine_fixed) // kv_per_token))
        during_update = VLLM_ASLEEP if config.rollout.vllm_sleep else share
        engine_rows.append(Row("vLLM during update", (during_update,) * width,
                               "asleep" if config.rollout.vllm_sleep else "awake: rollout.vllm_sleep=false"))
        rollout_peak = resident + share + CUDA_CONTEXT
        rollout_note = (f"{config.rollout.vllm_gpu_memory_utilization:.2f} of the GPU: weights "
                        f"{engine_weights / GIB:.1f} GiB, KV cache {kv_tokens} tokens")
    else:  # the transformers backend: each prompt's keys and values once, its G completions' after it
        generated = max(lengths.prompt.values()) + config.rollout.num_generations * lengths.completion
        rollout_cache = config.rollout.generation_batch_size * generated * kv_per_token
        rollout_peak = resident + rollout_cache + CUDA_CONTEXT
        share, rollout_note = rollout_cache, f"transformers KV cache, {config.rollout.generation_batch_size} prompts at a time"
    rows = state + update_rows + engine_rows + [Row("CUDA context", (float(CUDA_CONTEXT),) * width, "assumed")]
    fixed = sum(r.bytes[0] for r in state + engine_rows) + CUDA_CONTEXT
    update_peak = tuple(fixed + micro_batch_peak(shape, b, t, n, ckpt, config.grpo.shared_prefix) for t, n in shapes)
    rows.append(Row("rollouts: " + ("vLLM share" if vllm else "KV cache"), (share,) * width, rollout_note))
    rows.append(other)

    plan = MemoryPlan(columns, tuple(rows), update_peak, rollout_peak, kv_tokens, length, gpu_name, gpu_bytes,
                      world_size, shape_source, lengths.source, ())
    return replace(plan, problems=tuple(_problems(config, plan, resident, engine_fixed, kv_per_token)))


def _problems(config: TrainConfig, plan: MemoryPlan, resident: float, engine_fixed: float,
              kv_per_token: int) -> list[str]:
    """Why ``plan`` does not fit, one line each, naming the setting to change."""
    found, gpu, gib = [], plan.gpu_bytes, lambda x: f"{x / GIB:.1f} GiB"
    on = f"one {plan.gpu_name} ({gib(gpu)})"
    smaller_state = ("use a larger GPU or a smaller model (model.path)" if config.lora.enabled else
                     "set lora.enabled=true, or shard over more GPUs (run.distributed=fsdp)")
    if config.rollout.backend == "vllm":
        util = config.rollout.vllm_gpu_memory_utilization
        room = (gpu - resident - CUDA_CONTEXT) / gpu  # the largest share rollouts leave vLLM
        needed = (engine_fixed + kv_per_token * plan.engine_length) / gpu  # the least that holds one sequence
        if plan.rollout_peak > gpu:
            if room < needed:
                found.append(f"the training state ({gib(resident)}) leaves vLLM no room on {on} for one "
                             f"{plan.engine_length}-token sequence: {smaller_state}")
            else:
                found.append(f"rollouts need {gib(plan.rollout_peak)} on {on}: the training state holds "
                             f"{gib(resident)} beside vLLM's {util:.2f}; lower rollout.vllm_gpu_memory_utilization "
                             f"to at most {math.floor(room * 100) / 100:.2f}")
        elif plan.kv_tokens < plan.engine_length:
            found.append(f"vLLM's share ({util:.2f} of {gib(gpu)}) leaves a KV cache of {plan.kv_tokens} tokens, under "
                         f"one sequence of max_model_len {plan.engine_length}: raise rollout.vllm_gpu_memory_utilization "
                         f"to at least {math.ceil(needed * 100) / 100:.2f}, or lower data.max_prompt_tokens")
    elif plan.rollout_peak > gpu:
        found.append(f"rollouts need {gib(plan.rollout_peak)} on {on} for the transformers backend's KV cache: lower "
                     f"rollout.generation_batch_size (now {config.rollout.generation_batch_size})")
    worst = max(range(len(plan.columns)), key=lambda i: plan.update_peak[i])
    if plan.update_peak[worst] > gpu:
        if resident + CUDA_CONTEXT > gpu:
            fix = smaller_state
        elif config.rollout.backend == "vllm" and not config.rollout.vllm_sleep:
            fix = "set rollout.vllm_sleep=true"
        elif not config.model.gradient_checkpointing:
            fix = "set model.gradient_checkpointing=true"
        elif config.grpo.shared_prefix:
            fix = f"lower grpo.pack_tokens (now {config.grpo.pack_tokens})"
        else:
            fix = f"lower grpo.micro_batch_size (now {config.grpo.micro_batch_size})"
        found.append(f"the update needs {gib(plan.update_peak[worst])} at prompt length {plan.columns[worst]} on {on}: {fix}")
    return found


def plan_run(config: TrainConfig, *, world_size: int, gpu: tuple[str, int],
             shape: tuple[ModelShape, str] | None = None) -> MemoryPlan:
    """The plan of ``config`` as a run would see it: the model's shape (read from its config unless given, with
    its source) and the data's lengths. Where neither the config nor the dataset gives a prompt budget, the
    lengths' budget sizes vLLM's engine.
    """
    shape, source = shape or model_shape_of(config)
    lengths = data_lengths(config)
    if not config.data.max_prompt_tokens:
        config = replace(config, data=replace(config.data, max_prompt_tokens=max(lengths.prompt.values())))
    return plan_memory(config, shape, lengths, world_size=world_size, gpu=gpu, shape_source=source)


def check_fits(config: TrainConfig, *, world_size: int, gpu: tuple[str, int]) -> MemoryPlan | None:
    """``plan_run``'s plan; ConfigError with its first problem (the setting to change) when it does not fit.

    A model whose shape cannot be read offline is not planned (None, with a warning): the run goes on.
    """
    try:
        shape = model_shape_of(config)
    except ConfigError as err:
        log.warning("memory plan skipped: %s", err)
        return None
    plan = plan_run(config, world_size=world_size, gpu=gpu, shape=shape)
    log.info("memory plan on %s: update peak %.1f GiB, rollout peak %.1f GiB", plan.gpu_name,
             max(plan.update_peak) / GIB, plan.rollout_peak / GIB)
    if plan.problems:
        raise ConfigError(f"{plan.problems[0]} (`swe-srl plan` shows the whole memory plan)")
    return plan


def model_shape_of(config: TrainConfig) -> tuple[ModelShape, str]:
    """(shape, source) of ``model.path``."""
    if config.model.path == "tiny":  # the random model tests and the demo build: its config is the source
        from swe_srl.train.tiny import tiny_model, tiny_tokenizer

        model = tiny_model(tiny_tokenizer(), hidden_size=config.model.tiny_hidden_size,
                           num_layers=config.model.tiny_layers)
        return shape_from_config(model.config.to_dict(), "tiny"), "swe_srl.train.tiny (built here)"
    return model_shape(config.model.path)
