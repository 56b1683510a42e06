"""A model's identity: two trained models both called `final` are told apart by path and weights."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from swe_srl.agent.identity import model_identity, weights_fingerprint
from swe_srl.config.sections import ClientConfig
from swe_srl.errors import ConfigError


def test_two_models_called_final_have_different_identities(two_finals: tuple[Path, Path]) -> None:
    sft, srl = (model_identity(ClientConfig(model=str(folder))) for folder in two_finals)
    assert sft.key != srl.key and sft.fingerprint != srl.fingerprint
    assert sft.source == str(two_finals[0].resolve()) and sft.key.startswith(sft.source + "@sha256:")
    assert sft.name == str(two_finals[0])  # tables show the folder as given, not "final"


def test_the_fingerprint_is_of_the_bytes_not_the_file_listing(two_finals: tuple[Path, Path], tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "final"
    shutil.copytree(two_finals[0], copy)
    before = weights_fingerprint(copy)
    assert before == weights_fingerprint(two_finals[0])  # the same weights elsewhere: the same fingerprint
    weights = copy / "model.safetensors"
    stat = weights.stat()
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1  # one bit of the last tensor, same size
    weights.write_bytes(bytes(data))
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # and the same time
    assert weights_fingerprint(copy) != before
    (copy / "tokenizer_config.json").write_text("{}")  # not weights: ignored
    data[-1] ^= 1
    weights.write_bytes(bytes(data))
    assert weights_fingerprint(copy) == before


def test_fingerprinting_a_tiny_model_is_fast(two_finals: tuple[Path, Path]) -> None:
    start = time.perf_counter()
    for _ in range(10):
        weights_fingerprint(two_finals[0])
    assert (time.perf_counter() - start) / 10 < 0.5


def test_served_models_are_named_and_bad_folders_refused(tmp_path: Path) -> None:
    served = model_identity(ClientConfig(model="Qwen/Qwen2.5-Coder-7B", base_url="http://127.0.0.1:9/v1"))
    assert served.key == "Qwen/Qwen2.5-Coder-7B" and served.fingerprint == ""
    with pytest.raises(ConfigError, match=r"--model 'runs/a/srl/fnal': no such folder"):
        model_identity(ClientConfig(model="runs/a/srl/fnal"))
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ConfigError, match=r"no weight files \(\*\.safetensors"):
        model_identity(ClientConfig(model=str(tmp_path)))
