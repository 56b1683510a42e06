"""The GRPO step benchmark on one GPU with a Qwen2.5-0.5B-shaped, randomly initialised model.

    .venv/bin/python benchmarks/grpo_gpu.py [--prompts 4 --steps 3 ...]

The same program as ``grpo_vs_trl.py`` (swe-srl against TRL's GRPOTrainer, side by side, with an
equal-loss check), with defaults for a GPU: Qwen2.5-0.5B's shape (hidden 896, 24 layers, 14 heads,
2 key-value heads, MLP 4864, vocabulary 151936, tied embeddings) in bfloat16, SWE-like prompts of
2k to 8k tokens, G = 8 completions of up to 256 tokens. Nothing is downloaded: the weights are
random and the tokenizer is swe-srl's tiny one (ids it cannot decode are dropped from the text the
reward reads; the model still samples over the full vocabulary, as the real one would).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from grpo_vs_trl import main  # noqa: E402

QWEN25_05B = {
    "device": "cuda", "dtype": "bfloat16", "hidden": 896, "intermediate": 4864, "layers": 24, "heads": 14,
    "kv_heads": 2, "vocab": 151936, "tie": True, "prompts": 4, "G": 8, "micro": 4, "completion": 256,
    "prompt_min": 2048, "prompt_max": 8192, "pack_tokens": 16384, "steps": 3, "warmup": 1,
    "workdir": "/tmp/swe-srl-grpo-bench-gpu",
}

if __name__ == "__main__":
    main(defaults=QWEN25_05B)
