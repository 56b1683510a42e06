"""A tiny tokenizer and a tiny randomly initialised Qwen2 model, built offline, for tests and demos.

Nothing here touches the network: the tokenizer is a byte-level BPE trained on the fly on a
generated corpus (agent actions, Python, shell output, English), and the model is a
``Qwen2ForCausalLM`` of a few hundred thousand parameters with random weights. They speak the same
chat format as Qwen2.5 (``<|im_start|>role\\n...<|im_end|>``), so every code path that serves a real
Qwen2.5-Coder student can be exercised on a laptop CPU in seconds.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Iterable, Iterator

from swe_srl.actions import PARAMETERS, Action

ENDOFTEXT = "<|endoftext|>"
IM_START = "<|im_start|>"
IM_END = "<|im_end|>"
THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"

# The chat format of Qwen2 / Qwen2.5 without its tool-calling branches: each turn is
# "<|im_start|>role\n" + content + "<|im_end|>\n"; a generation prompt opens an assistant turn.
CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)

_WORDS = (
    "the issue fails when a user calls function with an empty list and expects value error instead "
    "of returning none we should check input before parsing file path test reproduce bug fix patch "
    "repository module class method returns wrong result after upgrade please look at traceback "
    "below expected behaviour actual behaviour steps to reproduce version python environment"
).split()
_NAMES = ["parse", "config", "utils", "models", "core", "io", "fields", "query", "render", "cache"]
_SHELL = [
    "ls -la", "cd /testbed && git status", "grep -rn 'def {n}' src/", "python reproduce.py",
    "pytest -x tests/test_{n}.py", "cat setup.py", "find . -name '*.py' | head", "git diff",
    "python -m pytest tests/test_{n}.py::test_{n}_empty -q", "sed -n 1,40p src/{n}.py",
]


def _python_snippet(rng: random.Random) -> str:
    name = rng.choice(_NAMES)
    arg = rng.choice(["value", "items", "path", "text", "node"])
    return (
        f"def {name}_{rng.randint(0, 99)}({arg}, default=None):\n"
        f"    \"\"\"Return the {name} of {arg}.\"\"\"\n"
        f"    if not {arg}:\n"
        f"        raise ValueError(f\"empty {arg}: {{{arg}!r}}\")\n"
        f"    for i, item in enumerate({arg}):\n"
        f"        if item is None:\n"
        f"            return default\n"
        f"    return [x * 2 for x in {arg}]\n\n"
        f"class {name.title()}Error(Exception):\n    pass\n"
    )


def _action_snippet(rng: random.Random) -> str:
    name = rng.choice(_NAMES)
    kind = rng.randrange(4)
    if kind == 0:
        action = Action.bash(rng.choice(_SHELL).format(n=name))
    elif kind == 1:
        action = Action.editor("view", f"/testbed/src/{name}.py", view_range=[1, rng.randint(20, 80)])
    elif kind == 2:
        action = Action.editor(
            "str_replace", f"/testbed/src/{name}.py",
            old_str="    if not value:\n        return None\n",
            new_str="    if not value:\n        raise ValueError('empty')\n",
        )
    else:
        action = Action.editor("create", f"/testbed/reproduce_{name}.py", file_text=_python_snippet(rng))
    thought = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(5, 20)))
    return f"{THINK_OPEN}\n{thought}\n{THINK_CLOSE}\n{action.render()}"


def _observation_snippet(rng: random.Random) -> str:
    name = rng.choice(_NAMES)
    return (
        f"============================= test session starts ==============================\n"
        f"collected {rng.randint(1, 40)} items\n\n"
        f"tests/test_{name}.py ..F.                                            [100%]\n"
        f"FAILED tests/test_{name}.py::test_{name}_empty - ValueError: empty input\n"
        f"Traceback (most recent call last):\n  File \"/testbed/src/{name}.py\", line {rng.randint(1, 300)}, in {name}\n"
        f"diff --git a/src/{name}.py b/src/{name}.py\n@@ -10,7 +10,7 @@\n-    return None\n+    raise ValueError\n"
    )


def default_corpus(n: int = 300, seed: int = 0) -> Iterator[str]:
    """Deterministic training text for the tiny tokenizer: actions, code, shell output, English."""
    rng = random.Random(seed)
    for _ in range(n):
        yield " ".join(rng.choice(_WORDS) for _ in range(rng.randint(10, 60))).capitalize() + "."
        yield _python_snippet(rng)
        yield _action_snippet(rng)
        yield _observation_snippet(rng)


def _action_markers() -> list[str]:
    """Every tag of the action format: ``<think>``, ``</think>``, each tool's ``<function=...>`` and
    ``<parameter=...>`` opening and their closing tags."""
    tools = [f"<function={tool}>" for tool in PARAMETERS]
    parameters = sorted({f"<parameter={name}>" for names in PARAMETERS.values() for name in names})
    return [THINK_OPEN, THINK_CLOSE, *tools, "</function>", *parameters, "</parameter>"]


def tiny_tokenizer(texts: Iterable[str] | None = None, vocab_size: int = 1024, *, action_markers: bool = False):
    """A byte-level BPE trained on ``texts`` (default: a generated corpus), with Qwen2's chat format.

    With ``action_markers`` every tag of the action format is one token, so a small model learns
    the format as a few tokens rather than a dozen bytes per tag (the demo); without it only
    ``<think>`` and ``</think>`` are.
    """
    from tokenizers import AddedToken, Regex, Tokenizer, models, normalizers, pre_tokenizers, trainers
    from transformers import Qwen2Tokenizer
    from transformers.models.qwen2.tokenization_qwen2 import PRETOKENIZE_REGEX

    # Train with exactly the normaliser and pre-tokeniser Qwen2Tokenizer rebuilds on loading, so
    # the tokenizer in memory and the one AutoTokenizer reads back from disk split text alike.
    backend = Tokenizer(models.BPE())
    backend.normalizer = normalizers.NFC()
    backend.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[ENDOFTEXT, IM_START, IM_END],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),  # every byte encodes: no unknown token
        show_progress=False,
    )
    backend.train_from_iterator(texts if texts is not None else default_corpus(), trainer=trainer)
    trained = json.loads(backend.to_str())["model"]
    tokenizer = Qwen2Tokenizer(
        vocab=trained["vocab"],
        merges=[tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in trained["merges"]],
        eos_token=IM_END,  # a chat turn ends generation, as in Qwen2.5-Instruct
        pad_token=ENDOFTEXT,
        model_max_length=32768,
    )
    tokenizer.add_special_tokens({"additional_special_tokens": [IM_START, IM_END]})
    # The markers are atomic but not "special": decoding with skip_special_tokens keeps them, as
    # the reward's format check and the action parser need to see them.
    markers = _action_markers() if action_markers else [THINK_OPEN, THINK_CLOSE]
    tokenizer.add_tokens([AddedToken(marker, normalized=False) for marker in markers])
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def tiny_model(tokenizer, *, hidden_size: int = 64, num_layers: int = 2, num_heads: int = 4, seed: int = 0,
               weight_scale: float = 1.0):
    """A randomly initialised ``Qwen2ForCausalLM`` sized to ``tokenizer``'s vocabulary.

    ``weight_scale`` multiplies every matrix: at 1 (the default init) every greedy completion repeats one
    token; scaled up (e.g. 20) the next-token distribution is peaked and varies along a sequence, so a
    test of padding, positions or caches sees a difference when they are wrong.
    """
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=hidden_size * 4,
        num_hidden_layers=num_layers,
        num_attention_heads=num_heads,
        num_key_value_heads=max(1, num_heads // 2),  # grouped-query attention, as in Qwen2.5
        max_position_embeddings=32768,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.convert_tokens_to_ids(ENDOFTEXT),
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(config)
    if weight_scale != 1.0:
        with torch.no_grad():
            for p in model.parameters():
                if p.dim() == 2:
                    p.mul_(weight_scale)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model


def save_tiny(dest: Path) -> Path:
    """Build the default tiny tokenizer and model and save both to ``dest``; returns ``dest``."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    tokenizer = tiny_tokenizer()
    tokenizer.save_pretrained(dest)
    tiny_model(tokenizer).save_pretrained(dest)
    return dest
