"""benchmarks/gpu_check.py has not met a GPU yet: its --cpu-smoke run drives the same program (the SRL recipe,
the memory plan beside it, the packing and decoding checks) on tiny shapes, so the program itself is known to work."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_gpu_check_runs_end_to_end_on_cpu_and_prints_one_line_per_check(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu_check.py"), "--cpu-smoke",
                           "--workdir", str(tmp_path)], capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    results = [line for line in lines if line.startswith(("lora-7b:", "full-1.5b:"))]
    assert [line.split(":")[0] for line in results] == ["lora-7b", "full-1.5b"], done.stdout
    for line in results:
        assert "FAILED" not in line
        assert "1 steps" in line and "packing on" in line and "cascade decoding on" in line
        assert "GiB planned (fits)" in line
    assert (tmp_path / "lora-7b" / "run" / "metrics.jsonl").is_file()  # the recipe's own outputs
