"""SWE-bench rows for synthesized tasks (pure): ids, test lists, eval script."""

from __future__ import annotations

import hashlib

from swe_srl.config.synthesize import PASS_TO_PASS_CAP
from swe_srl.images.sdist import normalize
from swe_srl.tasks.eval_script import pytest_eval_script
from swe_srl.tasks.task import Task


def instance_id(name: str, version: str, kind: str, bug_key: str) -> str:
    """`toolz__toolz-0.12.1.flip_comparison.1a2b3c4d`: package, version, kind, bug digest."""
    return f"{normalize(name)}__{normalize(name)}-{version}.{kind}.{bug_key[:8]}"


def sample_pass_to_pass(tests: set[str], key: str, cap: int = PASS_TO_PASS_CAP) -> list[str]:
    """At most ``cap`` tests, chosen by a hash of (key, test): stable across runs and machines."""
    ranked = sorted(tests, key=lambda t: hashlib.sha256(f"{key}\0{t}".encode()).hexdigest())
    return sorted(ranked[:cap])


def task_row(*, name: str, version: str, kind: str, bug_key: str, base_commit: str, image: str, gold: str,
             statement: str, fail_to_pass: list[str], pass_to_pass: list[str], meta: dict) -> Task:
    """The Task of one kept candidate (the tests already exist: the test patch is empty)."""
    iid = instance_id(name, version, kind, bug_key)
    files = sorted({t.split("::", 1)[0] for t in [*fail_to_pass, *pass_to_pass]})
    row = {
        "instance_id": iid,
        "repo": f"pypi/{normalize(name)}",
        "base_commit": base_commit,
        "problem_statement": statement,
        "patch": gold,
        "test_patch": "",
        "FAIL_TO_PASS": sorted(fail_to_pass),
        "PASS_TO_PASS": pass_to_pass,
        "version": version,
        "image": image,
        "eval_script": pytest_eval_script(base_commit, "", files),
        "log_parser": "parse_log_pytest",
        "eval_type": "pass_and_fail",
        "synthesis": meta,
    }
    return Task.from_row(row, source=f"synthesized {iid}")
