"""A hub model is downloaded before it is loaded, under the hub's progress bars, which are off again after."""

from __future__ import annotations

import huggingface_hub
import pytest
import torch
from huggingface_hub.errors import LocalEntryNotFoundError
from huggingface_hub.utils import are_progress_bars_disabled, disable_progress_bars, enable_progress_bars

from swe_srl.config import load_config
from swe_srl.errors import ConfigError
from swe_srl.train.policy import load_policy
from swe_srl.train.tiny import tiny_model, tiny_tokenizer


@pytest.fixture
def bars_off():
    disable_progress_bars()  # as the CLI leaves them
    yield
    enable_progress_bars()


def test_a_hub_model_downloads_with_its_bars_and_loads_from_the_snapshot(tmp_path, monkeypatch, bars_off):
    snapshot = tmp_path / "snapshot"
    tokenizer = tiny_tokenizer()
    tiny_model(tokenizer, seed=3).save_pretrained(snapshot)
    tokenizer.save_pretrained(snapshot)
    asked: list[tuple[str, bool]] = []

    def download(repo_id, **_):
        asked.append((repo_id, are_progress_bars_disabled()))
        return str(snapshot)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", download)
    config = load_config("tiny-cpu", ["model.path=someorg/tiny-coder", f"output_dir={tmp_path / 'out'}"])
    _, model = load_policy(config, torch.device("cpu"))
    assert asked == [("someorg/tiny-coder", False)]  # the bars were on while it downloaded
    assert are_progress_bars_disabled()  # and off again
    expected = tiny_model(tokenizer, seed=3).state_dict()
    assert all(torch.equal(tensor, expected[name]) for name, tensor in model.state_dict().items() if name in expected)


def test_a_model_the_hub_cannot_give_is_one_clear_error(tmp_path, monkeypatch, bars_off):
    def offline(repo_id, **_):
        raise LocalEntryNotFoundError("cannot reach the hub and no cached snapshot")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", offline)
    config = load_config("tiny-cpu", ["model.path=someorg/missing", f"output_dir={tmp_path / 'out'}"])
    with pytest.raises(ConfigError, match="model 'someorg/missing': not a local folder, and the hub cannot give it"):
        load_policy(config, torch.device("cpu"))
    assert are_progress_bars_disabled()
