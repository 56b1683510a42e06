"""Replies per second of the local transformers client under concurrent callers, batched against one at a time.

    .venv/bin/python benchmarks/local_batching.py                       # CPU defaults, see RESULTS.md
    .venv/bin/python benchmarks/local_batching.py --threads 8 --torch-threads 1 --repeats 3

N threads, like ``eval --workers N``, each ask the one shared ``TransformersClient`` for replies to
SWE-like agent prompts of different lengths, back to back. ``max_batch=1`` generates one reply at a
time (the client before batching); ``max_batch=N`` gathers the concurrent prompts into one left-padded
``generate``. The model is a random Qwen2 (hidden 256, 4 layers, the tiny tokenizer's vocabulary),
big enough that generation, not Python, is the cost; decoding is greedy, so both settings write the
same replies (checked). The two settings alternate; the median of ``--repeats`` runs is printed.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def run(client, prompts: list[list], threads: int) -> tuple[float, list[str]]:
    """Seconds for ``threads`` callers to get a reply to each of ``prompts`` (thread i takes every i-th), and
    the replies in prompt order."""
    replies: list[str] = [""] * len(prompts)
    start = threading.Barrier(threads + 1)

    def caller(first: int) -> None:
        start.wait()
        for i in range(first, len(prompts), threads):
            replies[i] = client.complete(prompts[i]).text

    workers = [threading.Thread(target=caller, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    start.wait()
    began = time.perf_counter()
    for w in workers:
        w.join()
    return time.perf_counter() - began, replies


def main() -> None:
    import torch
    from benchmarks.grpo_vs_trl import swe_prompt
    from swe_srl.agent.local_client import TransformersClient
    from swe_srl.stepwise import Message
    from swe_srl.train.tiny import tiny_model, tiny_tokenizer

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=8, help="concurrent callers (eval's --workers)")
    parser.add_argument("--replies", type=int, default=4, help="replies each thread asks for per run")
    parser.add_argument("--prompt-tokens", type=int, nargs=2, default=[200, 400], help="prompt lengths, min max")
    parser.add_argument("--new-tokens", type=int, default=128)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--torch-threads", type=int, default=0, help="torch.set_num_threads (0: torch's default)")
    args = parser.parse_args()

    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    tokenizer = tiny_tokenizer()
    model = tiny_model(tokenizer, hidden_size=args.hidden, num_layers=args.layers).eval()
    rng = random.Random(0)
    low, high = args.prompt_tokens
    prompts = [[Message(m["role"], m["content"]) for m in swe_prompt(tokenizer, rng.randint(low, high), rng)]
               for _ in range(args.threads * args.replies)]
    clients = {batch: TransformersClient(model, tokenizer, max_new_tokens=args.new_tokens, max_batch=batch)
               for batch in (1, args.threads)}
    lengths = [len(clients[1].prompt_ids(p)) for p in prompts]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} torch threads; model hidden {args.hidden}, layers "
          f"{args.layers}; {args.threads} callers x {args.replies} replies of up to {args.new_tokens} tokens; "
          f"prompts of {min(lengths)}-{max(lengths)} tokens")
    run(clients[args.threads], prompts[: args.threads], args.threads)  # warm-up: first-call costs out of the timing
    seconds: dict[int, list[float]] = {batch: [] for batch in clients}
    for repeat in range(args.repeats):
        replies = {}
        for batch, client in clients.items():
            took, replies[batch] = run(client, prompts, args.threads)
            seconds[batch].append(took)
            print(f"  repeat {repeat}: max_batch={batch:<3} {took:7.2f} s  {len(prompts) / took:6.2f} replies/s")
        if replies[1] != replies[args.threads]:
            print(f"note: repeat {repeat}: the batched replies differ from the one-at-a-time replies")
    one, batched = (len(prompts) / statistics.median(seconds[batch]) for batch in clients)
    print(f"one at a time (max_batch=1): {one:6.2f} replies/s")
    print(f"batched (max_batch={args.threads}):     {batched:6.2f} replies/s")
    print(f"batched / one at a time = {batched / one:.2f}x")


if __name__ == "__main__":
    main()
