"""run.distributed=fsdp on CPU: two torchrun processes (Gloo), the model sharded with FSDP2.

The same code path as several GPUs with NCCL, minus the GPUs: what is checked here is the
data-parallel arithmetic (each rank's share of the batch, the token mean over all ranks, padded
passes so collectives line up), the gathered checkpoints, and exact resume.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import synthetic  # noqa: E402

from swe_srl.config import load_config  # noqa: E402
from swe_srl.errors import ConfigError  # noqa: E402
from swe_srl.recipes.train_srl import run  # noqa: E402
from swe_srl.train.tiny import tiny_model, tiny_tokenizer  # noqa: E402

HERE = Path(__file__).resolve().parent
pytestmark = pytest.mark.skipif(not torch.distributed.is_available() or not torch.distributed.is_gloo_available(),
                                reason="this torch build has no Gloo backend for CPU process groups")


def torchrun(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Two ranks on this machine; their logs go under ``cwd`` (else torchrun leaves a folder in /tmp)."""
    temp = cwd / "tmp"  # the launch's own temp dir, so what it leaves there is seen whatever else runs
    temp.mkdir(exist_ok=True)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONFAULTHANDLER": "1", "PYTHONPATH": str(HERE.parents[1]),
           "TMPDIR": str(temp)}
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--standalone",
                           "--log-dir", str(cwd / "torchrun-logs"), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)
    output = "\n".join(line for line in (done.stdout + done.stderr).splitlines() if not line.startswith("W"))
    assert done.returncode == 0, output[-8000:]
    assert not list(temp.glob("torchelastic_*")), "torchrun left a folder in the temp dir"
    return done


@pytest.mark.parametrize("updates", [1, 2])
@pytest.mark.parametrize("mode", ["shared", "plain"])
def test_two_ranks_take_the_one_process_update(tmp_path, updates, mode):
    """Each rank trains on half the groups, with different micro-batch counts: same weights as one process."""
    worker = str(HERE / "fsdp_update_worker.py")
    subprocess.run([sys.executable, worker, str(tmp_path / "one.pt"), str(updates), mode], check=True,
                   env={**os.environ, "PYTHONPATH": str(HERE.parents[1])}, timeout=300)
    torchrun(worker, str(tmp_path / "two.pt"), str(updates), mode, cwd=tmp_path)
    one, two = torch.load(tmp_path / "one.pt"), torch.load(tmp_path / "two.pt")
    initial = tiny_model(tiny_tokenizer(), seed=0).state_dict()
    assert set(one) <= set(two)  # the gathered state also lists the tied lm_head
    assert max((one[k] - initial[k]).abs().max().item() for k in one) > 1e-2  # the update moved the weights
    for key in one:
        torch.testing.assert_close(two[key], one[key], atol=1e-5, rtol=1e-5, msg=key)


@pytest.fixture(scope="module")
def warm(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("fsdp")
    tokenizer = tiny_tokenizer()
    model = tiny_model(tokenizer, seed=0)
    synthetic.sft_steps(model, tokenizer, synthetic.format_only_pairs(), steps=120, lr=1e-2, batch_size=16)
    model.save_pretrained(root / "warm")
    tokenizer.save_pretrained(root / "warm")
    synthetic.save_dataset(root / "data")
    return root


def train(root: Path, name: str, *extra: str) -> str:
    return torchrun("-m", "swe_srl.cli", "train", "srl", "--config", "tiny-cpu", f"model.path={root / 'warm'}",
             f"data.path={root / 'data'}", f"output_dir={root / name}", "run.distributed=fsdp", "num_generations=4",
             "prompts_per_step=4", "max_new_tokens=24", "report_to=[]", "save_every=2", *extra, cwd=root).stderr


def test_a_sharded_run_logs_once_saves_whole_weights_and_resumes_exactly(warm):
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM

    train(warm, "straight", "steps=3")
    train(warm, "resumed", "steps=2")
    train(warm, "resumed", "steps=3", "resume=true")

    records = [json.loads(line) for line in (warm / "straight" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [1, 2, 3]  # written by rank 0 alone
    assert all(r["groups_kept"] > 0 for r in records)
    assert sorted(p.name for p in (warm / "straight").glob("checkpoint-*")) == ["checkpoint-2", "checkpoint-3"]
    model = AutoModelForCausalLM.from_pretrained(warm / "straight" / "final")  # whole weights, not shards
    assert model.model.embed_tokens.weight.shape[0] == len(tiny_tokenizer())

    straight, resumed = (load_file(str(warm / name / "final" / "model.safetensors")) for name in ("straight", "resumed"))
    initial = load_file(str(warm / "warm" / "model.safetensors"))
    assert any(not torch.equal(straight[k], initial[k]) for k in initial)
    for key in straight:
        assert torch.equal(straight[key], resumed[key]), key
    resumed_log = [json.loads(line) for line in (warm / "resumed" / "metrics.jsonl").read_text().splitlines()]
    assert [r["reward_mean"] for r in resumed_log] == [r["reward_mean"] for r in records]


def test_bfloat16_compute_over_float32_masters_keeps_both_shared_paths(warm):
    """The probes judge the logits' dtype (bf16 under mixed precision), not the float32 master weights'."""
    log = train(warm, "bf16", "steps=1", "model.dtype=bfloat16")
    assert "repeats each prompt's cache" not in log and "packing off" not in log
    assert (warm / "bf16" / "final" / "model.safetensors").exists()


def test_sharded_sft_takes_the_steps_one_process_takes(warm):
    """SFT samples nothing, so two ranks must end where one process does; 7 sequences per batch split
    4/3 over the ranks give them different micro-batch counts (forward_batch_size 3)."""
    from safetensors.torch import load_file

    from swe_srl.recipes.train_sft import run as sft

    args = ["--config", "sft-tiny-cpu", f"data.path={warm / 'data'}", "max_steps=3", "global_batch_size=7",
            "forward_batch_size=3", "include_thought=false", "report_to=[]", "save_every=0"]
    one = sft(load_config(args[1], args[2:] + [f"output_dir={warm / 'sft-one'}"]))
    torchrun("-m", "swe_srl.cli", "train", "sft", *args, f"output_dir={warm / 'sft-two'}", "run.distributed=fsdp",
             cwd=warm)
    a, b = (load_file(str(warm / name / "final" / "model.safetensors")) for name in ("sft-one", "sft-two"))
    for key in a:
        torch.testing.assert_close(b[key], a[key], atol=1e-5, rtol=1e-5, msg=key)
    two = [json.loads(line) for line in (warm / "sft-two" / "metrics.jsonl").read_text().splitlines()]
    assert [r["sequences"] for r in two] == [7, 7, 7]
    assert [r["loss"] for r in two] == pytest.approx([r["loss"] for r in one.history], rel=1e-5)


def test_fsdp_refuses_what_it_does_not_shard(tmp_path):
    with pytest.raises(ConfigError, match="LoRA"):
        run(load_config("tiny-cpu", ["run.distributed=fsdp", "lora.enabled=true", f"output_dir={tmp_path}"]))
    with pytest.raises(ConfigError, match="kl_beta"):
        run(load_config("tiny-cpu", ["run.distributed=fsdp", "kl_beta=0.1", f"output_dir={tmp_path}"]))
    with pytest.raises(ConfigError, match="torchrun"):
        run(load_config("tiny-cpu", ["run.distributed=fsdp", f"output_dir={tmp_path}"]))
