"""A causal LM's shape (what its memory depends on), read from its config.json without loading it.

Where the config comes from, in order: a local model folder; the hub's cache (never the network);
``known_shapes.json`` beside this file, for the models the bundled presets name. The source is
returned with the shape, so a plan can say which one it used.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from swe_srl.errors import ConfigError

KNOWN_SHAPES = Path(__file__).with_name("known_shapes.json")
# Architectures whose q, k and v projections carry a bias (transformers hard-codes it for Qwen2).
BIASED_QKV = {"qwen2"}


@dataclass(frozen=True)
class ModelShape:
    """A decoder-only transformer with gated MLPs (Qwen2, Llama, Mistral): enough to count its bytes."""

    hidden_size: int  # h, the residual stream's width
    intermediate_size: int  # I, the MLP's inner width (gate and up project to it)
    num_layers: int  # L, decoder blocks
    num_heads: int  # query heads
    num_kv_heads: int  # key/value heads (grouped-query attention)
    head_dim: int  # width of one head
    vocab_size: int  # V, rows of the embedding and the output head
    tie_word_embeddings: bool  # the output head shares the embedding's weight
    qkv_bias: bool  # q, k and v projections have a bias

    @property
    def q_dim(self) -> int:
        return self.num_heads * self.head_dim

    @property
    def kv_dim(self) -> int:
        return self.num_kv_heads * self.head_dim

    def block_parameters(self) -> int:
        """Parameters of one decoder block: attention, gated MLP, two RMSNorms."""
        h, bias = self.hidden_size, self.q_dim + 2 * self.kv_dim if self.qkv_bias else 0
        attention = h * (self.q_dim + 2 * self.kv_dim) + bias + self.q_dim * h
        return attention + 3 * h * self.intermediate_size + 2 * h

    def edge_parameters(self) -> int:
        """Parameters outside the blocks: embedding, final norm, and the output head unless tied."""
        embedding = self.vocab_size * self.hidden_size
        return embedding * (1 if self.tie_word_embeddings else 2) + self.hidden_size

    def parameters(self) -> int:
        return self.num_layers * self.block_parameters() + self.edge_parameters()

    def tensors(self) -> int:
        """Parameter tensors (AdamW keeps a step counter per tensor)."""
        per_block = 9 + (3 if self.qkv_bias else 0)  # 7 projections, 2 norms, the q/k/v biases
        return self.num_layers * per_block + 2 + (0 if self.tie_word_embeddings else 1)

    def lora_parameters(self, rank: int, targets: tuple[str, ...]) -> int:
        """Adapter parameters over every block: ``rank x (in + out)`` per targeted projection."""
        h, inner = self.hidden_size, self.intermediate_size
        sizes = {"q_proj": (h, self.q_dim), "k_proj": (h, self.kv_dim), "v_proj": (h, self.kv_dim),
                 "o_proj": (self.q_dim, h), "gate_proj": (h, inner), "up_proj": (h, inner), "down_proj": (inner, h)}
        unknown = sorted(set(targets) - set(sizes))
        if unknown:
            raise ConfigError(f"lora.target_modules: {', '.join(unknown)} are not projections the memory plan knows "
                              f"({', '.join(sizes)})")
        return self.num_layers * sum(rank * sum(sizes[name]) for name in targets)


def shape_from_config(config: Mapping[str, Any], source: str) -> ModelShape:
    """The shape a transformers ``config.json`` (as a dict) describes; ConfigError naming ``source`` and the field."""
    try:
        heads = int(config["num_attention_heads"])
        hidden = int(config["hidden_size"])
        return ModelShape(
            hidden_size=hidden, intermediate_size=int(config["intermediate_size"]),
            num_layers=int(config["num_hidden_layers"]), num_heads=heads,
            num_kv_heads=int(config.get("num_key_value_heads") or heads),
            head_dim=int(config.get("head_dim") or hidden // heads), vocab_size=int(config["vocab_size"]),
            tie_word_embeddings=bool(config.get("tie_word_embeddings", False)),
            qkv_bias=bool(config.get("attention_bias", config.get("model_type") in BIASED_QKV)),
        )
    except KeyError as missing:
        raise ConfigError(f"{source}: no field {missing} in the model's config; the memory plan needs a decoder-only "
                          "transformer's config.json") from None


def known_shapes() -> dict[str, dict[str, Any]]:
    """The bundled table: hub id -> its config.json fields."""
    table = json.loads(KNOWN_SHAPES.read_text())
    return {name: fields for name, fields in table.items() if not name.startswith("_")}


def model_shape(path: str) -> tuple[ModelShape, str]:
    """(shape, where it was read) for ``model.path``: a local folder, the hub's cache, or the bundled table."""
    folder = Path(path).expanduser()
    if (folder / "config.json").is_file():
        return shape_from_config(json.loads((folder / "config.json").read_text()), str(folder / "config.json")), \
            f"{folder / 'config.json'}"
    cached = _hub_cached_config(path)
    if cached is not None:
        return shape_from_config(json.loads(Path(cached).read_text()), cached), f"{cached} (hub cache)"
    known = {name.lower(): (name, fields) for name, fields in known_shapes().items()}
    if path.lower() in known:
        name, fields = known[path.lower()]
        return shape_from_config(fields, str(KNOWN_SHAPES)), f"bundled table ({name}; config.json not available offline)"
    raise ConfigError(f"model.path '{path}': no config.json in a local folder or the hub's cache, and not in "
                      f"{KNOWN_SHAPES.name} ({', '.join(known_shapes())}); download the model first")


def _hub_cached_config(repo_id: str) -> str | None:
    """The cached config.json of hub id ``repo_id``, without asking the network; None when not cached."""
    if repo_id.count("/") != 1:
        return None
    from huggingface_hub import try_to_load_from_cache

    try:
        found = try_to_load_from_cache(repo_id, "config.json")
    except ValueError:  # not a valid repo id
        return None
    return found if isinstance(found, str) else None
