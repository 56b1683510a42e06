"""The training config (`swe-srl train srl`, `train sft` and `train rlvr`): sections that YAML presets map onto one to one.

A YAML file has one mapping per section (``model``, ``lora``, ``data``, ``rollout``, ``grpo``,
``optim``, ``run``, ``sft``, ``rlvr``); loading, overrides and their errors are config/loading.py's.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable

from swe_srl.config.loading import PRESETS_ROOT, load, to_dict
from swe_srl.errors import ConfigError
from swe_srl.prompt_recipe import dataset_recipe

PRESETS_DIR = PRESETS_ROOT / "train"
SRL_SECTIONS = ("model", "lora", "data", "rollout", "grpo", "optim", "run")  # what `train srl` reads
SFT_SECTIONS = ("model", "lora", "data", "optim", "run", "sft")  # what `train sft` reads
RLVR_SECTIONS = ("model", "lora", "rollout", "grpo", "optim", "run", "rlvr")  # what `train rlvr` reads


@dataclass(frozen=True)
class ModelConfig:
    path: str = "tiny"  # a hub id or local folder; "tiny" builds swe_srl.train.tiny's random model
    dtype: str = "float32"  # float32 | bfloat16 | float16 (bf16 on GPU)
    gradient_checkpointing: bool = False  # trade compute for memory on long prompts
    tiny_hidden_size: int = 64  # only for path "tiny"
    tiny_layers: int = 2  # only for path "tiny"


@dataclass(frozen=True)
class LoraConfig:
    enabled: bool = False  # train adapters; the reference policy is the base with adapters off
    r: int = 16  # adapter rank
    alpha: int = 32  # scaling numerator (alpha / r)
    dropout: float = 0.0  # keep 0 so the first update's policy ratio is exactly 1
    # the layers that get adapters
    target_modules: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


@dataclass(frozen=True)
class DataConfig:
    path: str = ""  # a datasets.save_to_disk folder, or a .jsonl / .parquet file of step-wise examples
    split: str = "train"  # used when path holds a DatasetDict
    prompt_column: str = "prompt"  # list of {role, content} chat messages
    target_column: str = "target"  # the expert action's canonical text
    shuffle: bool = True  # reshuffle every epoch with the run's seed
    max_prompt_tokens: int = 0  # drop longer prompts (0: `train` takes the dataset's prompt recipe budget, else keep all)


@dataclass(frozen=True)
class RolloutConfig:
    backend: str = "transformers"  # transformers | vllm
    num_generations: int = 8  # G, completions per prompt (paper: 8)
    temperature: float = 1.0  # sampling temperature (paper: 1.0)
    top_p: float = 1.0  # nucleus sampling; 1: off
    max_new_tokens: int = 1024  # completions are cut here (and then usually fail the format)
    response_prefix: str = ""  # text opened for the model after the generation prompt, e.g. "<think>\n"
    generation_batch_size: int = 64  # prompts per generate() call on the transformers backend
    vllm_gpu_memory_utilization: float = 0.35  # vLLM's share of the GPU; training uses the rest
    vllm_max_model_len: int = 0  # vLLM's context length; 0: data.max_prompt_tokens + max_new_tokens
    # Put vLLM to sleep while the policy updates (its GPU memory goes to training), once per step:
    # level 1 (weights kept in CPU memory) under LoRA, level 2 (weights dropped, pushed again) for full fine-tuning.
    vllm_sleep: bool = True


@dataclass(frozen=True)
class GrpoConfig:
    prompts_per_step: int = 64  # groups in one batch after dynamic sampling
    dynamic_sampling: bool = True  # drop groups whose reward std <= std_epsilon and resample
    std_epsilon: float = 1e-4  # a group whose reward std is at most this is dropped (dynamic sampling)
    max_sampling_rounds: int = 8  # give up filling a batch after this many rounds
    advantage_eps: float = 1e-6  # (r - mean) / (std + eps)
    clip_low: float = 0.2  # ratio clipped to [1 - clip_low, 1 + clip_high]
    clip_high: float = 0.2  # the upper clip (clip_low's pair)
    kl_beta: float = 0.0  # KL loss coefficient (paper: 0)
    log_kl: bool = True  # compute KL to the reference for the log even when kl_beta is 0 (one more forward)
    updates_per_step: int = 1  # optimizer steps per batch: the batch is split in this many parts
    micro_batch_size: int = 8  # sequences per forward/backward (gradient accumulation)
    shared_prefix: bool = True  # pack each prompt once with its G completions (block mask); plain path if the model can't
    pack_tokens: int = 16384  # the most tokens in one packed forward/backward (shared_prefix only)


@dataclass(frozen=True)
class OptimConfig:
    lr: float = 5e-7  # learning rate (the paper's for SRL)
    weight_decay: float = 0.0  # AdamW's decoupled weight decay
    beta1: float = 0.9  # AdamW's first-moment decay
    beta2: float = 0.999  # AdamW's second-moment decay
    max_grad_norm: float = 1.0  # gradients are clipped to this global norm
    warmup_steps: int = 0  # optimizer steps of linear warm-up
    schedule: str = "constant"  # constant | cosine (over all optimizer steps)


@dataclass(frozen=True)
class RunConfig:
    output_dir: str = "runs/srl"  # config.json, metrics, checkpoints and final/ (the trained model) go here
    steps: int = 100  # GRPO steps (batches); train srl only
    seed: int = 0  # for the model's init (tiny), sampling and the data order
    save_every: int = 50  # checkpoint every N steps (and at the end); 0: only at the end
    keep_checkpoints: int = 2  # older checkpoints are deleted
    resume: bool = False  # continue from the newest checkpoint in output_dir
    # Where metrics go besides metrics.jsonl: tensorboard (event files in output_dir/tensorboard) and/or
    # wandb (Weights & Biases: project from WANDB_PROJECT, else "swe-srl"; WANDB_MODE=offline works offline).
    report_to: tuple[str, ...] = ("tensorboard",)
    merge_on_save: bool = False  # also write merged full weights at the end of a LoRA run
    distributed: str = "none"  # none | fsdp (train srl; launch with torchrun or accelerate launch)
    device: str = "auto"  # auto | cpu | cuda


@dataclass(frozen=True)
class SftConfig:
    """The SFT baseline (`swe-srl train sft`); GRPO ignores this section. Field names are unique across sections."""

    mode: str = "action"  # action: loss on each example's target | trajectory: whole runs, loss on every assistant turn
    include_thought: bool = True  # targets are "<think>\n{expert thought}\n</think>\n{action}", the reward's format
    epochs: float = 3.0  # passes over the examples (paper: 3); sets the number of optimizer steps
    max_steps: int = 0  # stop after this many optimizer steps instead (0: epochs decide)
    global_batch_size: int = 64  # sequences per optimizer step (paper: 64)
    forward_batch_size: int = 4  # sequences per forward/backward (gradient accumulation)
    warmup_ratio: float = 0.3  # share of the optimizer steps spent in linear warm-up (paper: 0.3)
    max_sequence_tokens: int = 32768  # longer sequences are skipped and counted (0: no limit)


@dataclass(frozen=True)
class RlvrConfig:
    """RLVR (`swe-srl train rlvr`): whole episodes in sandboxes, rewarded by the task's tests. GRPO's sections
    apply: grpo.prompts_per_step tasks per step, rollout.num_generations episodes per task."""

    tasks: str = "bundled"  # gradable task rows (JSON, JSONL or parquet; see `swe-srl tasks check`) or "bundled"
    sandbox: str = "docker"  # docker | podman | local: where episodes act (grading is always a fresh container)
    max_turns: int = 30  # model calls per episode, malformed replies included
    max_episode_tokens: int = 0  # prompt + completion tokens over an episode; 0: no limit
    episode_seconds: float = 1800.0  # wall clock per episode; it then ends and is graded as it stands
    # resolved: 1 when the harness resolves the patch, else 0 | fail_to_pass: the fraction of FAIL_TO_PASS
    # tests that pass, when every PASS_TO_PASS test passes (else 0): a shaped variant, 1 exactly when resolved
    reward: str = "resolved"
    workers: int = 8  # sandboxes starting, acting and grading at once
    grade_timeout: int = 900  # seconds the task's eval script may run when a patch is graded

    def __post_init__(self) -> None:
        if self.reward not in ("resolved", "fail_to_pass"):
            raise ConfigError(f"rlvr.reward must be resolved or fail_to_pass, got {self.reward!r}")
        if self.max_turns < 1 or self.workers < 1 or self.episode_seconds <= 0:
            raise ConfigError("rlvr.max_turns and rlvr.workers must be at least 1 and rlvr.episode_seconds above 0, "
                              f"got {self.max_turns}, {self.workers} and {self.episode_seconds}")


@dataclass(frozen=True)
class TrainConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    lora: LoraConfig = field(default_factory=LoraConfig)
    data: DataConfig = field(default_factory=DataConfig)
    rollout: RolloutConfig = field(default_factory=RolloutConfig)
    grpo: GrpoConfig = field(default_factory=GrpoConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    run: RunConfig = field(default_factory=RunConfig)
    sft: SftConfig = field(default_factory=SftConfig)
    rlvr: RlvrConfig = field(default_factory=RlvrConfig)

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)


def load_config(path: str | Path | None = None, overrides: Iterable[str] = ()) -> TrainConfig:
    """Load a YAML config or preset name (None: all defaults) and apply ``key=value`` overrides."""
    return load(TrainConfig, path, PRESETS_DIR, overrides=overrides)


def with_dataset_budget(config: TrainConfig) -> TrainConfig:
    """``data.max_prompt_tokens`` from the dataset's prompt recipe where the config leaves it 0."""
    recipe = dataset_recipe(config.data.path) if config.data.path else None
    if config.data.max_prompt_tokens or recipe is None or recipe.max_prompt_tokens is None:
        return config
    return replace(config, data=replace(config.data, max_prompt_tokens=recipe.max_prompt_tokens))
