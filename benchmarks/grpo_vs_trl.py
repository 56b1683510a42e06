"""GRPO step time and peak memory: swe-srl's trainer against TRL's GRPOTrainer, side by side.

    .venv/bin/python benchmarks/grpo_vs_trl.py                      # CPU, small model (see RESULTS.md)
    .venv/bin/python benchmarks/grpo_gpu.py                         # GPU, Qwen2.5-0.5B-shaped model

Both trainers get the same randomly initialised Qwen2 model (saved once, loaded by each), the same
SWE-like prompts (an agent's context: problem statement, actions, tool outputs), G completions per
prompt sampled with transformers ``generate`` at temperature 1, the same reward, the same batch
(prompts x G completions per optimizer step), token-level loss averaging (TRL ``loss_type="dapo"``),
no KL term, no vLLM, one optimizer step per batch. Each trainer runs in its own process, so each
peak memory is its own (CPU: the process's max RSS; GPU: ``torch.cuda.max_memory_allocated``).

Times are split into
  generation = sampling the completions and scoring them (the same engine for both), and
  update     = everything else in the step: log-probs, backward, optimizer (what packing changes),
and the first ``--warmup`` steps are left out. A separate process checks equal loss: both losses on
one fixed batch (with old log-probs perturbed, so the ratio is not trivially 1).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def bench_reward(completion: str, target: str = "") -> float:
    """A cheap deterministic reward with spread on random text: the share of 'e' among letters."""
    letters = [c for c in completion.lower() if c.isalpha()]
    return sum(c == "e" for c in letters) / max(1, len(letters))


# --- the shared inputs -----------------------------------------------------------------------------

def swe_prompt(tokenizer, length: int, rng: random.Random) -> list[dict[str, str]]:
    """An agent's context of about ``length`` tokens: issue, then (action, tool output) turns."""
    from swe_srl.train.tiny import default_corpus

    pieces = list(default_corpus(n=60, seed=rng.randrange(10**6)))
    messages = [{"role": "system", "content": "You are a software engineer fixing an issue in /testbed."},
                {"role": "user", "content": "<issue>\n" + pieces[0] + "\n</issue>"}]
    i = 1
    while len(tokenizer(tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True),
                        add_special_tokens=False)["input_ids"]) < length:
        messages.append({"role": "assistant", "content": pieces[i % len(pieces)]})
        messages.append({"role": "user", "content": "OBSERVATION:\n" + pieces[(i + 1) % len(pieces)] * 2})
        i += 2
    return messages


def prepare(args: argparse.Namespace) -> None:
    """Save the random model, its tokenizer and the prompts under ``args.workdir``."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from swe_srl.train.tiny import ENDOFTEXT, tiny_tokenizer

    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    tokenizer = tiny_tokenizer()
    config = Qwen2Config(
        vocab_size=args.vocab or len(tokenizer), hidden_size=args.hidden, intermediate_size=args.intermediate,
        num_hidden_layers=args.layers, num_attention_heads=args.heads, num_key_value_heads=args.kv_heads,
        max_position_embeddings=32768, tie_word_embeddings=args.vocab == 0 or args.tie,
        bos_token_id=tokenizer.convert_tokens_to_ids(ENDOFTEXT), eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(0)
    model = Qwen2ForCausalLM(config).to(getattr(torch, args.dtype))
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(work / "model")
    tokenizer.save_pretrained(work / "model")
    rng = random.Random(0)
    count = args.prompts * (args.steps + args.warmup)
    with open(work / "data.jsonl", "w") as f:
        for _ in range(count):
            f.write(json.dumps({"prompt": swe_prompt(tokenizer, rng.randint(args.prompt_min, args.prompt_max), rng),
                                "target": ""}) + "\n")


# --- the contenders (each in its own process) -----------------------------------------------------

def micro(args: argparse.Namespace) -> int:
    size = args.micro or args.G
    if (args.prompts * args.G) % size:
        raise SystemExit(f"--micro {size} must divide the batch of {args.prompts} x {args.G} completions")
    return size


def peak_gpu_bytes() -> int | None:
    import torch

    return torch.cuda.max_memory_allocated() if torch.cuda.is_available() else None


def run_ours(args: argparse.Namespace, shared: bool) -> dict:
    from swe_srl.config import load_config
    from swe_srl.reward import Score
    from swe_srl.recipes.train_srl import run

    work = Path(args.workdir)
    config = load_config("tiny-cpu", [
        f"model.path={work / 'model'}", f"model.dtype={args.dtype}", f"data.path={work / 'data.jsonl'}",
        "data.shuffle=false", f"output_dir={work / ('ours-shared' if shared else 'ours-plain')}",
        f"num_generations={args.G}", f"max_new_tokens={args.completion}", f"prompts_per_step={args.prompts}",
        f"generation_batch_size={args.prompts}", f"micro_batch_size={micro(args)}", "dynamic_sampling=false",
        "kl_beta=0.0", "log_kl=false", "updates_per_step=1", f"shared_prefix={str(shared).lower()}",
        f"pack_tokens={args.pack_tokens}", f"steps={args.steps + args.warmup}", "save_every=0",
        "report_to=[]", f"device={args.device}", "lr=1e-5", "temperature=1.0",
    ])
    result = run(config, score=lambda texts, target: [Score(reward=bench_reward(t), format_ok=True) for t in texts])
    timed = result.history[args.warmup:]
    return {
        "step": [r["step_seconds"] for r in timed],
        "generation": [r["rollout_seconds"] for r in timed],
        "update": [r["update_seconds"] for r in timed],
        "completion_length": statistics.mean(r["completion_length"] for r in timed),
        "gpu_peak": peak_gpu_bytes(),
    }


def trl_trainer(args: argparse.Namespace, max_steps: int):
    import datasets
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    work = Path(args.workdir)
    tokenizer = AutoTokenizer.from_pretrained(work / "model")
    model = AutoModelForCausalLM.from_pretrained(work / "model", dtype=getattr(torch, args.dtype))
    data = datasets.load_dataset("json", data_files=str(work / "data.jsonl"), split="train")

    def reward(completions, **_):
        return [bench_reward(c[-1]["content"] if isinstance(c, list) else c) for c in completions]

    config = GRPOConfig(
        output_dir=str(work / "trl"), per_device_train_batch_size=micro(args),
        gradient_accumulation_steps=args.prompts * args.G // micro(args),
        num_generations=args.G, max_completion_length=args.completion, max_steps=max_steps, learning_rate=1e-5,
        beta=0.0, loss_type="dapo", temperature=1.0, top_p=1.0, top_k=0, num_iterations=1, max_grad_norm=1.0,
        use_vllm=False, logging_steps=1, report_to=[], save_strategy="no", shuffle_dataset=False,
        use_cpu=args.device == "cpu", bf16=args.dtype == "bfloat16", seed=0, disable_dropout=True,
    )
    return GRPOTrainer(model=model, reward_funcs=reward, args=config, train_dataset=data, processing_class=tokenizer)


def run_trl(args: argparse.Namespace) -> dict:
    from transformers import TrainerCallback

    trainer = trl_trainer(args, args.steps + args.warmup)
    steps: list[float] = []
    generation: list[float] = []
    lengths: list[float] = []
    inner = trainer._generate_and_score_completions

    def timed_generation(inputs):
        started = time.perf_counter()
        out = inner(inputs)
        generation.append(time.perf_counter() - started)
        lengths.append(float(out["completion_mask"].sum(1).float().mean()))
        return out

    trainer._generate_and_score_completions = timed_generation

    class StepClock(TrainerCallback):
        def on_step_begin(self, *_, **__):
            self.started = time.perf_counter()

        def on_step_end(self, *_, **__):
            steps.append(time.perf_counter() - self.started)

    trainer.add_callback(StepClock())
    trainer.train()
    w = args.warmup
    return {"step": steps[w:], "generation": generation[w:],
            "update": [s - g for s, g in zip(steps[w:], generation[w:])],
            "completion_length": statistics.mean(lengths[w:]), "gpu_peak": peak_gpu_bytes()}


def run_loss_check(args: argparse.Namespace) -> dict:
    """Both losses on one fixed batch: G random completions of the first prompt, fixed advantages."""
    import torch

    from swe_srl.config import GrpoConfig
    from swe_srl.train.logprobs import packed_logprobs
    from swe_srl.train.objective import MicroBatch, policy_loss

    trainer = trl_trainer(args, 1)
    model, tokenizer = trainer.model, trainer.processing_class
    model.train()
    device = next(model.parameters()).device
    first = json.loads((Path(args.workdir) / "data.jsonl").read_text().splitlines()[0])["prompt"]
    text = tokenizer.apply_chat_template(first, tokenize=False, add_generation_prompt=True)
    prompt = tokenizer(text, add_special_tokens=False)["input_ids"]
    generator = torch.Generator().manual_seed(0)
    lengths = [max(1, args.completion - i * args.completion // (2 * args.G)) for i in range(args.G)]  # TRL pads these
    completions = [torch.randint(0, len(tokenizer), (n,), generator=generator).tolist() for n in lengths]
    advantages = torch.randn(args.G, generator=generator)
    pairs = [(prompt, c) for c in completions]
    tokens = sum(lengths)

    with torch.no_grad():
        live, mask = packed_logprobs(model, pairs, device)
    old = (live + 0.2 * torch.randn(live.shape, generator=generator).to(device)) * mask  # ratios away from 1
    ours, _ = policy_loss(packed_logprobs(model, pairs, device)[0], mask,
                          MicroBatch(tuple(pairs), advantages.to(device), old, None, tokens), GrpoConfig())

    width = max(lengths)
    completion_ids = torch.full((args.G, width), tokenizer.pad_token_id, dtype=torch.long)
    for i, c in enumerate(completions):
        completion_ids[i, : len(c)] = torch.tensor(c)
    inputs = {
        "prompt_ids": torch.tensor([prompt] * args.G, device=device),
        "prompt_mask": torch.ones((args.G, len(prompt)), dtype=torch.long, device=device),
        "completion_ids": completion_ids.to(device), "completion_mask": mask.long(),
        "advantages": advantages.to(device), "old_per_token_logps": old,
        "num_items_in_batch": torch.tensor(float(tokens), device=device),
    }
    # What train() sets before its first step: the window this batch is one part of (normaliser = tokens).
    trainer.current_gradient_accumulation_steps = trainer.args.gradient_accumulation_steps
    theirs = trainer.compute_loss(model, inputs)
    return {"ours": ours.item(), "trl": theirs.item(), "tokens": tokens}


# --- the parent: run the contenders one after another, print the table ------------------------------

def child(args: argparse.Namespace, role: str) -> dict:
    """Run ``role`` in a fresh process; its JSON result plus its max RSS."""
    command = [sys.executable, str(Path(sys.argv[0]).resolve()), "--role", role] + [a for a in sys.argv[1:] if not a.startswith("--role")]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, cwd=REPO)
    out = proc.stdout.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"{role} failed (status {status}); its output:\n{out}")
    result = json.loads(out.strip().splitlines()[-1])
    result["max_rss"] = usage.ru_maxrss * 1024  # Linux reports KiB
    return result


def main(argv: list[str] | None = None, defaults: dict | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--role", default="parent", choices=["parent", "ours", "ours-plain", "trl", "loss"])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--intermediate", type=int, default=1024)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--kv-heads", type=int, default=2)
    parser.add_argument("--vocab", type=int, default=0, help="0: the tiny tokenizer's vocabulary")
    parser.add_argument("--tie", action="store_true", help="tie embeddings (always when --vocab 0)")
    parser.add_argument("--prompts", type=int, default=2, help="prompts per step (groups per batch)")
    parser.add_argument("--G", type=int, default=8)
    parser.add_argument("--micro", type=int, default=0,
                        help="sequences per forward/backward for TRL and our plain path (0: G); a memory knob")
    parser.add_argument("--completion", type=int, default=256)
    parser.add_argument("--prompt-min", type=int, default=1024)
    parser.add_argument("--prompt-max", type=int, default=2048)
    parser.add_argument("--pack-tokens", type=int, default=16384)
    parser.add_argument("--steps", type=int, default=2, help="timed steps")
    parser.add_argument("--warmup", type=int, default=1, help="untimed first steps")
    parser.add_argument("--workdir", default="/tmp/swe-srl-grpo-bench")
    parser.add_argument("--skip-plain", action="store_true", help="do not also time our plain (unpacked) path")
    parser.set_defaults(**(defaults or {}))
    args = parser.parse_args(argv)
    if args.role != "parent":
        result = {"ours": lambda: run_ours(args, True), "ours-plain": lambda: run_ours(args, False),
                  "trl": lambda: run_trl(args), "loss": lambda: run_loss_check(args)}[args.role]()
        print(json.dumps(result))
        return

    prepare(args)
    roles = ["loss", "ours"] + ([] if args.skip_plain else ["ours-plain"]) + ["trl"]
    results = {role: child(args, role) for role in roles}
    loss = results.pop("loss")
    print(f"machine: {os.cpu_count()} CPUs, device {args.device}, dtype {args.dtype}; model hidden {args.hidden}, "
          f"layers {args.layers}, vocab {args.vocab or 'tiny'}; {args.prompts} prompts x G={args.G}, completions "
          f"<= {args.completion} tokens, prompts {args.prompt_min}-{args.prompt_max} tokens; "
          f"{args.steps} timed steps after {args.warmup} warm-up")
    print(f"equal loss on one fixed batch ({loss['tokens']} completion tokens): swe-srl {loss['ours']:.9g}  "
          f"TRL {loss['trl']:.9g}  |diff| {abs(loss['ours'] - loss['trl']):.2e}")
    memory = "gpu_peak" if args.device != "cpu" else "max_rss"
    print(f"{'trainer':<16}{'step s':>9}{'generation s':>14}{'update s':>10}{'compl. len':>12}{'peak GiB':>10}")
    for role, r in results.items():
        name = {"ours": "swe-srl packed", "ours-plain": "swe-srl plain", "trl": "TRL GRPOTrainer"}[role]
        print(f"{name:<16}{statistics.mean(r['step']):>9.2f}{statistics.mean(r['generation']):>14.2f}"
              f"{statistics.mean(r['update']):>10.2f}{r['completion_length']:>12.1f}{(r[memory] or 0) / 2**30:>10.2f}")
    trl, ours = results["trl"], results["ours"]
    ratio = lambda key: statistics.mean(trl[key]) / statistics.mean(ours[key])  # noqa: E731
    print(f"speed-up of swe-srl (packed) over TRL: whole step {ratio('step'):.2f}x, update part {ratio('update'):.2f}x, "
          f"generation part {ratio('generation'):.2f}x; peak memory ratio (TRL / ours) "
          f"{(trl[memory] or 0) / max(1, ours[memory] or 0):.2f}")


if __name__ == "__main__":
    main()
