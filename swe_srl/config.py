"""Run configuration: frozen dataclasses that YAML presets map onto one to one.

A YAML file has one mapping per section (``model``, ``lora``, ``data``, ``rollout``, ``grpo``,
``optim``, ``run``, ``sft``) whose keys are the dataclass fields. ``key=value`` overrides name a field as
``section.field`` or, where the field name is unique across sections, as ``field`` alone; values
are parsed as YAML (``lr=1e-5``, ``enabled=false``, ``target_modules=[q_proj,v_proj]``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from swe_srl.errors import ConfigError

PRESETS_DIR = Path(__file__).resolve().parent / "presets"


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
    target_modules: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


@dataclass(frozen=True)
class DataConfig:
    path: str = ""  # a datasets.save_to_disk folder, or a .jsonl / .parquet file of step-wise examples
    split: str = "train"  # used when path holds a DatasetDict
    prompt_column: str = "prompt"  # list of {role, content} chat messages
    target_column: str = "target"  # the expert action's canonical text
    shuffle: bool = True  # reshuffle every epoch with the run's seed
    max_prompt_tokens: int = 0  # drop longer prompts (0: keep all)


@dataclass(frozen=True)
class RolloutConfig:
    backend: str = "transformers"  # transformers | vllm
    num_generations: int = 8  # G, completions per prompt (paper: 8)
    temperature: float = 1.0  # paper: 1.0
    top_p: float = 1.0
    max_new_tokens: int = 1024  # completions are cut here (and then usually fail the format)
    response_prefix: str = ""  # text opened for the model after the generation prompt, e.g. "<think>\n"
    generation_batch_size: int = 64  # prompts per generate() call on the transformers backend
    vllm_gpu_memory_utilization: float = 0.35  # vLLM's share of the GPU; training uses the rest
    vllm_max_model_len: int = 16384


@dataclass(frozen=True)
class GrpoConfig:
    prompts_per_step: int = 64  # groups in one batch after dynamic sampling
    dynamic_sampling: bool = True  # drop groups whose reward std <= std_epsilon and resample
    std_epsilon: float = 1e-4
    max_sampling_rounds: int = 8  # give up filling a batch after this many rounds
    advantage_eps: float = 1e-6  # (r - mean) / (std + eps)
    clip_low: float = 0.2  # ratio clipped to [1 - clip_low, 1 + clip_high]
    clip_high: float = 0.2
    kl_beta: float = 0.0  # KL loss coefficient (paper: 0)
    log_kl: bool = True  # compute KL to the reference for the log even when kl_beta is 0 (one more forward)
    updates_per_step: int = 1  # optimizer steps per batch: the batch is split in this many parts
    micro_batch_size: int = 8  # sequences per forward/backward (gradient accumulation)
    shared_prefix: bool = True  # pack each prompt once with its G completions (block mask); plain path if the model can't
    pack_tokens: int = 16384  # the most tokens in one packed forward/backward (shared_prefix only)


@dataclass(frozen=True)
class OptimConfig:
    lr: float = 5e-7  # paper, SRL
    weight_decay: float = 0.0
    beta1: float = 0.9
    beta2: float = 0.999
    max_grad_norm: float = 1.0
    warmup_steps: int = 0  # optimizer steps of linear warm-up
    schedule: str = "constant"  # constant | cosine (over all optimizer steps)


@dataclass(frozen=True)
class RunConfig:
    output_dir: str = "runs/srl"
    steps: int = 100  # GRPO steps (batches)
    seed: int = 0
    save_every: int = 50  # checkpoint every N steps (and at the end); 0: only at the end
    keep_checkpoints: int = 2  # older checkpoints are deleted
    resume: bool = False  # continue from the newest checkpoint in output_dir
    tensorboard: bool = True
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
class TrainConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    lora: LoraConfig = field(default_factory=LoraConfig)
    data: DataConfig = field(default_factory=DataConfig)
    rollout: RolloutConfig = field(default_factory=RolloutConfig)
    grpo: GrpoConfig = field(default_factory=GrpoConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    run: RunConfig = field(default_factory=RunConfig)
    sft: SftConfig = field(default_factory=SftConfig)

    def to_dict(self) -> dict[str, Any]:
        return {s.name: dataclasses.asdict(getattr(self, s.name)) for s in dataclasses.fields(self)}


_SECTION_TYPES = {
    "model": ModelConfig, "lora": LoraConfig, "data": DataConfig, "rollout": RolloutConfig,
    "grpo": GrpoConfig, "optim": OptimConfig, "run": RunConfig,
    "sft": SftConfig,
}


def _coerce(value: Any, current: Any, where: str) -> Any:
    """Check ``value`` against the type of the default it replaces."""
    if isinstance(current, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}")
        return value
    if isinstance(current, int) and not isinstance(current, bool):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected a whole number, got {value!r}")
        return value
    if isinstance(current, float):
        if isinstance(value, str):
            try:
                value = float(value)  # YAML 1.1 reads "3e-3" (no dot) as text
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if isinstance(current, tuple):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        return tuple(str(v) for v in value)
    if isinstance(current, str):
        if value is None:
            return ""
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise ConfigError(f"{where}: expected text, got {value!r}")
        return str(value)
    return value


def from_dict(data: Mapping[str, Any], source: str = "<config>") -> TrainConfig:
    """Build a TrainConfig; unknown sections or keys are errors that name them."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: the top level must be a mapping of sections")
    sections = {}
    for name, values in data.items():
        if name not in _SECTION_TYPES:
            raise ConfigError(f"{source}: unknown section '{name}' (known: {', '.join(_SECTION_TYPES)})")
        cls = _SECTION_TYPES[name]
        defaults = cls()
        values = values or {}
        if not isinstance(values, Mapping):
            raise ConfigError(f"{source}: section '{name}' must be a mapping")
        known = {f.name for f in dataclasses.fields(cls)}
        kwargs = {}
        for key, value in values.items():
            if key not in known:
                raise ConfigError(f"{source}: unknown key '{name}.{key}' (known: {', '.join(sorted(known))})")
            kwargs[key] = _coerce(value, getattr(defaults, key), f"{source}: {name}.{key}")
        sections[name] = cls(**kwargs)
    return TrainConfig(**sections)


def apply_overrides(config: TrainConfig, overrides: Iterable[str]) -> TrainConfig:
    """Apply ``section.field=value`` or ``field=value`` strings, in order."""
    data = config.to_dict()
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep:
            raise ConfigError(f"override '{item}' is not of the form key=value")
        key = key.strip().lstrip("-")
        if "." in key:
            section, name = key.split(".", 1)
            if section not in data or name not in data[section]:
                raise ConfigError(f"override '{item}': no field '{key}'")
        else:
            owners = [s for s, values in data.items() if key in values]
            if not owners:
                raise ConfigError(f"override '{item}': no field named '{key}'")
            if len(owners) > 1:
                raise ConfigError(f"override '{item}': '{key}' is ambiguous; write one of {', '.join(o + '.' + key for o in owners)}")
            section, name = owners[0], key
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError as exc:
            raise ConfigError(f"override '{item}': value is not valid YAML ({exc})") from None
        data[section][name] = value
    return from_dict(data, source="overrides")


def resolve_preset(path_or_name: str | Path) -> Path:
    """A YAML file path, or the name of a bundled preset (e.g. ``tiny-cpu``)."""
    path = Path(path_or_name)
    if path.is_file():
        return path
    preset = PRESETS_DIR / f"{path_or_name}.yaml"
    if preset.is_file():
        return preset
    known = ", ".join(sorted(p.stem for p in PRESETS_DIR.glob("*.yaml")))
    raise ConfigError(f"config '{path_or_name}' is neither a file nor a preset (presets: {known})")


def load_config(path: str | Path | None = None, overrides: Iterable[str] = ()) -> TrainConfig:
    """Load a YAML config or preset name (None: all defaults) and apply ``key=value`` overrides."""
    config = TrainConfig()
    if path is not None:
        file = resolve_preset(path)
        try:
            data = yaml.safe_load(file.read_text()) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{file}: not valid YAML ({exc})") from None
        config = from_dict(data, source=str(file))
    return apply_overrides(config, overrides)
