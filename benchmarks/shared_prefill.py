"""Rollout time with and without sharing each prompt's work, side by side in one process (TransformersBackend).

    .venv/bin/python benchmarks/shared_prefill.py                       # CPU defaults, see RESULTS.md
    .venv/bin/python benchmarks/shared_prefill.py --new-tokens 64 256 --repeats 3

Same random Qwen2 model as ``grpo_vs_trl.py`` (hidden 256, 4 layers, the tiny tokenizer's
vocabulary), the same SWE-like prompts, G completions per prompt at temperature 1. Three paths:
  plain     generate prefills every prompt G times and decodes from G copies of its cache;
  prefill   each prompt prefilled once, its cache repeated G times for decoding;
  shared    each prompt prefilled once, and decoding reads one copy of its cache (cascade attention).
They alternate, each timed run reseeded alike, so all sample the same tokens (checked) and decode
as many steps. Prints the median of ``--repeats`` runs per setting.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> None:
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from benchmarks.grpo_vs_trl import swe_prompt
    from swe_srl.train.generate_hf import TransformersBackend
    from swe_srl.train.rollout import Sampling
    from swe_srl.train.tiny import tiny_tokenizer

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--prompts", type=int, default=2)
    parser.add_argument("--prompt-tokens", type=int, default=2048)
    parser.add_argument("--G", type=int, default=8)
    parser.add_argument("--new-tokens", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    tokenizer = tiny_tokenizer()
    config = Qwen2Config(vocab_size=len(tokenizer), hidden_size=args.hidden, intermediate_size=4 * args.hidden,
                         num_hidden_layers=args.layers, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=32768, tie_word_embeddings=True,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(0)
    model = Qwen2ForCausalLM(config).eval()
    rng = random.Random(0)
    prompts = []
    for _ in range(args.prompts):
        text = tokenizer.apply_chat_template(swe_prompt(tokenizer, args.prompt_tokens, rng), tokenize=False,
                                             add_generation_prompt=True)
        prompts.append(tokenizer(text, add_special_tokens=False)["input_ids"])
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; model hidden {args.hidden}, layers "
          f"{args.layers}; {args.prompts} prompts of {[len(p) for p in prompts]} tokens x G={args.G}")
    print(f"{'new tokens':>10}{'plain s':>10}{'prefill s':>11}{'shared s':>10}{'prefill x':>11}{'shared x':>10}"
          f"{'mean len':>10}")
    backends = {name: TransformersBackend(model, tokenizer, batch_size=args.prompts, shared_prefill=name != "plain",
                                          shared_decoding=name == "shared")
                for name in ("plain", "prefill", "shared")}
    for new_tokens in args.new_tokens:
        sampling = Sampling(temperature=1.0, max_new_tokens=new_tokens)
        times: dict[str, list[float]] = {name: [] for name in backends}
        for repeat in range(args.repeats):
            outputs = {}
            for name, backend in backends.items():
                torch.manual_seed(repeat)
                started = time.perf_counter()
                outputs[name] = backend.generate(prompts, args.G, sampling)
                times[name].append(time.perf_counter() - started)
            if not outputs["plain"] == outputs["prefill"] == outputs["shared"]:
                print(f"note: repeat {repeat} sampled different tokens on the three paths")
        lengths = [len(c.token_ids) for g in outputs["shared"] for c in g]
        plain, prefill, shared = (statistics.median(times[name]) for name in backends)
        print(f"{new_tokens:>10}{plain:>10.2f}{prefill:>11.2f}{shared:>10.2f}{plain / prefill:>10.2f}x"
              f"{plain / shared:>9.2f}x{statistics.mean(lengths):>10.1f}")


if __name__ == "__main__":
    main()
