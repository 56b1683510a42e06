"""Which model acted: a local folder by its resolved path and a hash of its weights, a served model by its name.

Every trained model's folder is called ``final``, so a folder's name cannot tell two models
apart; its resolved path and the content of its weight files can. The fingerprint hashes the
bytes of every weight file (and a LoRA adapter's config, which names its base model), not their
names, sizes or times, so a model saved again unchanged keeps its identity and a retrained one
in the same folder gets a new one. Run records and predictions carry the identity's ``key``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from swe_srl.config.sections import ClientConfig
from swe_srl.errors import ConfigError

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf")
ALSO_HASHED = ("adapter_config.json",)  # a LoRA adapter's weights mean nothing without the base it names
CHUNK_BYTES = 1 << 20
FINGERPRINT_HEX = 16  # 64 bits of the sha256: enough to tell a user's models apart


@dataclass(frozen=True)
class ModelIdentity:
    """A model as runs record it."""

    name: str  # what tables show: the folder as given, or the served model's name
    source: str  # the folder's resolved path, or the served model's name
    fingerprint: str = ""  # "sha256:<hex>" of a local folder's weight files; empty for a served model

    @property
    def key(self) -> str:
        """The one string that names this model in run records and predictions."""
        return f"{self.source}@{self.fingerprint}" if self.fingerprint else self.source


def weights_fingerprint(folder: Path) -> str:
    """``sha256:<hex>`` over the names and bytes of ``folder``'s weight files, read in chunks."""
    files = sorted(p for p in Path(folder).iterdir()
                   if p.is_file() and (p.suffix in WEIGHT_SUFFIXES or p.name in ALSO_HASHED))
    if not any(p.suffix in WEIGHT_SUFFIXES for p in files):
        raise ConfigError(f"{folder}: no weight files ({', '.join('*' + s for s in WEIGHT_SUFFIXES)}); "
                          "give a folder a training run saved (e.g. runs/srl/final) or a downloaded model")
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0")
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK_BYTES):
                digest.update(chunk)
    return f"sha256:{digest.hexdigest()[:FINGERPRINT_HEX]}"


def model_identity(config: ClientConfig) -> ModelIdentity:
    """The identity of the model ``config`` names: served (with ``base_url``) by name, else a local folder."""
    if config.base_url:
        return ModelIdentity(name=config.model, source=config.model)
    folder = Path(config.model)
    if not folder.is_dir():
        raise ConfigError(f"--model {config.model!r}: no such folder; give a local model folder, "
                          "or a served model's name with --base-url")
    return ModelIdentity(name=config.model, source=str(folder.resolve()), fingerprint=weights_fingerprint(folder))
