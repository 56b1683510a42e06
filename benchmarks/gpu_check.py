"""One command for a GPU: the 7B training path on first contact, and the memory plan against what it used.

    .venv/bin/python benchmarks/gpu_check.py               # one H100 or H200; under 8 minutes
    .venv/bin/python benchmarks/gpu_check.py --cpu-smoke   # tiny shapes on CPU: the program itself, in a minute

torch, transformers and peft only: no vLLM, no network. The weights are random in the real
Qwen2.5-Coder-7B-Instruct architecture (its config.json fields are written below) and the
tokenizer is swe-srl's tiny one (the model samples over its full vocabulary; ids the tokenizer
cannot decode drop out of the text the reward reads). Two checks, each through the project's own
recipe (``swe_srl.recipes.train_srl.run``), which runs the memory plan's check at start on a GPU:

1. ``lora-7b``: 3 SRL steps of the ``qwen2.5-coder-7b`` preset (LoRA r=64, bf16, gradient
   checkpointing, shared-prefix packing) with transformers rollouts at the preset's lengths:
   prompts of 2k-8k tokens, 8 completions of up to 1k tokens each, 2 prompts a step.
2. ``full-1.5b``: one full fine-tuning step of a Qwen2.5-Coder-1.5B-shaped model, same lengths.

Each prints one line: step time, update tokens/s (each prompt once, its completions), MFU (model FLOPs of the update: 6N per token for
full fine-tuning, 4N under LoRA, whose weights get no gradient; recomputation not counted), the
peak memory measured (torch.cuda.max_memory_allocated over the whole check) beside the plan's peak
for the same config, and whether shared-prefix packing and shared-prefix (cascade) decoding stayed on.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from grpo_vs_trl import bench_reward, swe_prompt  # noqa: E402

# config.json of Qwen/Qwen2.5-Coder-7B-Instruct and -1.5B-Instruct: the fields that set the architecture.
QWEN25_CODER_7B = {"hidden_size": 3584, "intermediate_size": 18944, "num_hidden_layers": 28, "num_attention_heads": 28,
                   "num_key_value_heads": 4, "vocab_size": 152064, "tie_word_embeddings": False,
                   "max_position_embeddings": 32768, "rope_theta": 1000000.0, "rms_norm_eps": 1e-6}
QWEN25_CODER_15B = {"hidden_size": 1536, "intermediate_size": 8960, "num_hidden_layers": 28, "num_attention_heads": 12,
                    "num_key_value_heads": 2, "vocab_size": 151936, "tie_word_embeddings": True,
                    "max_position_embeddings": 32768, "rope_theta": 1000000.0, "rms_norm_eps": 1e-6}
# The CPU smoke run: the same program on shapes a laptop runs in seconds.
SMOKE = {"hidden_size": 64, "intermediate_size": 256, "num_hidden_layers": 2, "num_attention_heads": 4,
         "num_key_value_heads": 2, "vocab_size": 0, "tie_word_embeddings": True, "max_position_embeddings": 32768}
PEAK_BF16_FLOPS = {"H100": 989e12, "H200": 989e12}  # dense bf16 tensor-core peak of the SXM parts


@dataclass(frozen=True)
class Check:
    """One check: a model shape, a preset with overrides, and how many steps."""

    name: str
    shape: dict
    preset: str
    overrides: tuple[str, ...]
    steps: int


def checks(args: argparse.Namespace) -> list[Check]:
    lengths = (f"max_new_tokens={args.completion}", f"num_generations={args.G}", f"prompts_per_step={args.prompts}",
               f"generation_batch_size={args.prompts}", "rollout.backend=transformers", "dynamic_sampling=false",
               "save_every=0", "report_to=[]", f"device={args.device}", f"model.dtype={args.dtype}")
    lora_shape, full_shape = (SMOKE, SMOKE) if args.cpu_smoke else (QWEN25_CODER_7B, QWEN25_CODER_15B)
    return [Check("lora-7b", lora_shape, "qwen2.5-coder-7b", lengths, args.steps),
            Check("full-1.5b", full_shape, "qwen2.5-coder-7b-full",
                  lengths + ("run.distributed=none", "updates_per_step=1"), 1)]


def prepare(work: Path, check: Check, args: argparse.Namespace) -> tuple[Path, list[int]]:
    """The random model (built on the device, saved for the recipe to load), its tokenizer, and the prompts;
    the folder holding them and each prompt's length in tokens."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from swe_srl.train.tiny import ENDOFTEXT, tiny_tokenizer

    folder = work / check.name
    tokenizer = tiny_tokenizer()
    shape = dict(check.shape, vocab_size=check.shape["vocab_size"] or len(tokenizer))
    config = Qwen2Config(**shape, bos_token_id=tokenizer.convert_tokens_to_ids(ENDOFTEXT),
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(0)
    with torch.device(args.device):
        model = Qwen2ForCausalLM(config).to(getattr(torch, args.dtype))
    model.save_pretrained(folder / "model")
    tokenizer.save_pretrained(folder / "model")
    del model
    if args.device == "cuda":
        torch.cuda.empty_cache()  # the recipe loads its own copy from the folder
    rng = random.Random(0)
    lengths = []
    with open(folder / "data.jsonl", "w") as f:
        for _ in range(args.prompts * check.steps):
            messages = swe_prompt(tokenizer, rng.randint(args.prompt_min, args.prompt_max), rng)
            text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
            lengths.append(len(tokenizer(text, add_special_tokens=False)["input_ids"]))
            f.write(json.dumps({"prompt": messages, "target": ""}) + "\n")
    ordered = sorted(lengths)
    rank = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    summary = {"prompt_tokens": {"p50": rank(0.5), "p90": rank(0.9), "max": ordered[-1]}}
    (folder / "summary.json").write_text(json.dumps(summary))  # the plan reads the real lengths from it
    return folder, lengths


class Decisions(logging.Handler):
    """What the recipe logged about packing and shared-prefix decoding."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())

    def said(self, start: str) -> str:
        return next((m for m in self.messages if m.startswith(start)), "")


def run_check(check: Check, args: argparse.Namespace) -> str:
    """Run ``check`` through the SRL recipe; its one result line."""
    import torch

    from swe_srl.config.train import load_config
    from swe_srl.reward import Score
    from swe_srl.recipes.train_srl import run
    from swe_srl.train.memory_plan import GIB, plan_run
    from swe_srl.train.model_shape import shape_from_config

    started = time.perf_counter()
    folder, prompt_tokens = prepare(Path(args.workdir), check, args)
    config = load_config(check.preset, [*check.overrides, f"model.path={folder / 'model'}",
                                        f"data.path={folder / 'data.jsonl'}", "data.shuffle=false",
                                        f"data.max_prompt_tokens={max(prompt_tokens)}", f"run.steps={check.steps}",
                                        f"run.output_dir={folder / 'run'}"])
    cuda = args.device == "cuda"
    gpu = (torch.cuda.get_device_name(), torch.cuda.get_device_properties(0).total_memory) if cuda else ("cpu", 80 * GIB)
    shape = shape_from_config(json.loads((folder / "model" / "config.json").read_text()), "gpu_check")
    plan = plan_run(config, world_size=1, gpu=gpu, shape=(shape, "written into gpu_check.py"))
    decisions = Decisions()
    logging.getLogger("swe_srl").addHandler(decisions)
    logging.getLogger("swe_srl").setLevel(logging.INFO)
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    try:
        result = run(config, score=lambda texts, target: [Score(reward=bench_reward(t), format_ok=True) for t in texts])
    finally:
        logging.getLogger("swe_srl").removeHandler(decisions)
    history = result.history
    measured = torch.cuda.max_memory_allocated() if cuda else None
    # Each prompt is read once (no shuffle, no dynamic sampling), computed once per group by the packed update.
    update_tokens = sum(prompt_tokens) + sum(r["groups_kept"] * r["completion_length"] * config.rollout.num_generations
                                             for r in history)
    update_seconds = sum(r["update_seconds"] for r in history)
    params = shape.parameters()
    flops_per_token = (4 if config.lora.enabled else 6) * params
    peak_flops = next((v for k, v in PEAK_BF16_FLOPS.items() if k in gpu[0]), None)
    mfu = (f"{100 * flops_per_token * update_tokens / update_seconds / peak_flops:.1f}%"
           if peak_flops and update_seconds else "n/a (no bf16 peak known for this device)")
    packing = "on" if decisions.said("shared-prefix packing on") else "OFF: " + decisions.said("shared-prefix packing")
    cascade = decisions.said("decoding repeats each prompt's cache") or decisions.said("shared prefill off")
    predicted = max(max(plan.update_peak), plan.rollout_peak)
    return (f"{check.name}: {len(history)} steps, step {statistics.mean(r['step_seconds'] for r in history):.1f} s "
            f"(rollout {statistics.mean(r['rollout_seconds'] for r in history):.1f} s, update "
            f"{statistics.mean(r['update_seconds'] for r in history):.1f} s), "
            f"update {update_tokens / max(update_seconds, 1e-9):.0f} tok/s, MFU {mfu}, "
            f"peak {'n/a on CPU' if measured is None else f'{measured / GIB:.1f} GiB'} "
            f"measured vs {predicted / GIB:.1f} GiB planned ({'fits' if plan.fits else 'plan refuses'}), "
            f"packing {packing}, cascade decoding {'OFF: ' + cascade if cascade else 'on'}, "
            f"{time.perf_counter() - started:.0f} s")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cpu-smoke", action="store_true", help="tiny shapes and lengths on CPU: checks the program")
    parser.add_argument("--workdir", default="/tmp/swe-srl-gpu-check")
    parser.add_argument("--steps", type=int, default=3, help="SRL steps of the LoRA check")
    args = parser.parse_args(argv)
    lengths = ({"prompts": 2, "G": 4, "completion": 16, "prompt_min": 64, "prompt_max": 128, "device": "cpu",
                "dtype": "float32", "steps": 1} if args.cpu_smoke else
               {"prompts": 2, "G": 8, "completion": 1024, "prompt_min": 2048, "prompt_max": 8192, "device": "cuda",
                "dtype": "bfloat16"})
    for key, value in lengths.items():
        setattr(args, key, value)
    if not args.cpu_smoke:
        import torch

        if not torch.cuda.is_available():
            raise SystemExit("gpu_check: no GPU here; run with --cpu-smoke to check the program on CPU")
    print(f"gpu_check: {'CPU smoke run, tiny shapes' if args.cpu_smoke else 'one GPU'}; "
          f"prompts {args.prompt_min}-{args.prompt_max} tokens, {args.G} completions of up to {args.completion}")
    for check in checks(args):
        try:
            print(run_check(check, args), flush=True)
        except Exception as err:  # one line per check, whatever stops it (the plan's refusal, an OOM)
            print(f"{check.name}: FAILED: {type(err).__name__}: {err}", flush=True)


if __name__ == "__main__":
    main()
