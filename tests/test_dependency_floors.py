"""The dependency floors in pyproject.toml are true: every import is declared with a floor, and the
core tests pass with every dependency installed at its floor.

The slow test builds a virtual environment with each of ``[project].dependencies`` (and the test tools of
the dev extra) pinned to its floor, then runs the core test files in it against this checkout. Torch is
the exception: it is pinned to the running torch (the CPU build this machine installs), so the torch
floor itself is not exercised here. It was checked by hand, by running: in a virtual environment with
torch 2.7.0 (PyPI's CUDA wheel, run on CPU) and the other dependencies at their newest, the core test
files and tests/train/test_fsdp.py, test_checkpoint.py and test_memory_plan.py pass; with 2.6.0 the core
files pass but every FSDP test fails (fully_shard calls torch.cpu.Stream.record_event, new in 2.7). From
the wheels' sources: fully_shard is in torch.distributed.fsdp from 2.6 and DTensor in
torch.distributed.tensor from 2.5. The optional integrations (vllm, wandb, ray, trl, accelerate) are not
installed there; their tests skip. The dev floors of trl (0.29) and accelerate (1.4) were checked by hand
instead: tests/train/test_trl_reward.py passes with both at their floors under transformers 5.4 (its
floor) and 5.24, and fails with trl 0.28 under either (pyproject.toml says why). The environment is
cached under ~/.cache/swe-srl/floors/<hash of the pins>, built under a file lock and marked done when
complete, so reruns take only the test run and concurrent runs wait for one build.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.metadata
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import torch
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.test_layers import graph

REPO_ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
# Pytest plugins swe_srl ships into containers as text (read, never imported): their pytest is the
# task's, not a dependency of swe_srl.
SHIPPED_AS_TEXT = {"swe_srl.evaluate.guard_plugin", "swe_srl.factory.pytest_calls"}
# The dev extra's tools that the core test files need at their floors.
TEST_TOOLS = ("pytest", "hypothesis")
# Core test files: prompts, formats, reward, step-wise data, dataset, the trainer's loss, packing and
# groups, HF generation, prefix attention, the tiny tokenizer and model, the local and OpenAI clients,
# grading's swebench parsers and checks, task conversion, patches and curves.
FLOOR_TESTS = (
    "tests/test_prompt_recipe.py", "tests/formats/test_toolcalls.py", "tests/test_reward.py",
    "tests/test_stepwise.py", "tests/test_actions.py", "tests/test_dataset.py",
    "tests/train/test_objective.py", "tests/train/test_groups.py", "tests/train/test_shared_prefix.py",
    "tests/train/test_generate_hf.py", "tests/train/test_prefix_attention.py", "tests/train/test_tiny.py",
    "tests/agent/test_local_model.py", "tests/agent/test_openai_client.py",
    "tests/evaluate/test_grade_checks.py", "tests/evaluate/test_report.py", "tests/tasks/test_convert.py",
    "tests/tasks/test_gradable.py", "tests/tasks/test_patch_files.py", "tests/train/test_curves.py",
)
CACHE = Path.home() / ".cache" / "swe-srl" / "floors"


def requirements(extras: bool = True) -> list[Requirement]:
    """The project's dependencies, then (with ``extras``) those of every optional extra."""
    found = [Requirement(line) for line in PROJECT["dependencies"]]
    if extras:
        found += [Requirement(line) for group in PROJECT["optional-dependencies"].values() for line in group]
    return found


def floor(requirement: Requirement) -> str | None:
    """The version of the requirement's ``>=`` clause, or None where it has none."""
    return next((spec.version for spec in requirement.specifier if spec.operator == ">="), None)


def runtime_names() -> set[str]:
    """Canonical names of the distributions swe_srl may import: dependencies and the extras but dev."""
    groups = [line for name, group in PROJECT["optional-dependencies"].items() if name != "dev" for line in group]
    return {canonicalize_name(Requirement(line).name) for line in [*PROJECT["dependencies"], *groups]}


def pinned_version(requirement: Requirement) -> str | None:
    """The version the floor environment installs: the floor, but the running torch for torch."""
    return torch.__version__.split("+")[0] if requirement.name == "torch" else floor(requirement)


def floor_pins() -> list[str]:
    """``name==version`` for every dependency and test tool, as ``pinned_version`` says."""
    tools = {r.name: r for r in requirements() if r.name in TEST_TOOLS}
    return [f"{r.name}=={pinned_version(r)}" for r in [*requirements(extras=False), *tools.values()]]


def test_every_dependency_has_a_floor() -> None:
    missing = [str(r) for r in requirements() if floor(r) is None]
    assert not missing, f"no >= floor: {missing}"


def test_the_floor_pins_name_each_dependency_once_at_its_floor() -> None:
    pins = dict(pin.split("==") for pin in floor_pins())
    assert len(pins) == len(floor_pins()) and set(TEST_TOOLS) <= set(pins)
    assert pins.pop("torch") == torch.__version__.split("+")[0]
    assert all(pins[r.name] == floor(r) for r in requirements(extras=False) if r.name != "torch")


def test_every_third_party_import_is_declared() -> None:
    edges, third_party = graph()
    assert not SHIPPED_AS_TEXT & set().union(*edges.values()), "a shipped plugin is imported: its imports count"
    declared = runtime_names()
    distributions = importlib.metadata.packages_distributions()
    undeclared = set()
    for module, names in third_party.items():
        if module in SHIPPED_AS_TEXT:
            continue
        for name in names - set(sys.stdlib_module_names) - {"__future__"}:
            # A module of no installed distribution (an extra not installed here) goes by its own name.
            candidates = {canonicalize_name(d) for d in distributions.get(name, [name])}
            if not candidates & declared:
                undeclared.add(f"{name} (imported by {module})")
    assert not undeclared, f"imported but not declared in pyproject.toml: {sorted(undeclared)}"


def test_the_import_check_finds_matplotlib_and_yaml_by_their_distributions() -> None:
    distributions = importlib.metadata.packages_distributions()
    assert "pyyaml" in {canonicalize_name(d) for d in distributions["yaml"]}
    assert {"matplotlib", "pyyaml", "numpy"} <= runtime_names()


def _run(command: list[str], timeout: float, **kwargs) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, **kwargs)
    assert done.returncode == 0, f"{' '.join(command[:4])} ... failed:\n{(done.stdout + done.stderr)[-4000:]}"


def floor_environment(pins: list[str]) -> Path:
    """A virtual environment with ``pins`` installed, built once per set of pins and Python version."""
    key = hashlib.sha256("\n".join([sys.version, *pins]).encode()).hexdigest()[:16]
    venv = CACHE / key
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (venv / ".done").exists():
            shutil.rmtree(venv, ignore_errors=True)  # a build that stopped part way
            _run([sys.executable, "-m", "venv", str(venv)], 300)
            pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
            torch_pin = next(pin for pin in pins if pin.startswith("torch=="))
            _run([*pip, torch_pin], 1200)  # first and alone: pip then keeps the CPU build
            _run([*pip, *pins], 1800)
            _run([str(venv / "bin" / "python"), "-m", "pip", "check"], 300)
            (venv / ".done").write_text("\n".join(pins) + "\n")
    return venv


@pytest.mark.slow
def test_the_core_tests_pass_with_every_dependency_at_its_floor() -> None:
    venv = floor_environment(floor_pins())
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    env.pop("VIRTUAL_ENV", None)
    command = [str(venv / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "ignore",
               "-m", "not docker and not podman", *FLOOR_TESTS]
    done = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, f"core tests fail at the floors:\n{done.stdout[-6000:]}{done.stderr[-2000:]}"
    assert " passed" in done.stdout.splitlines()[-1]
