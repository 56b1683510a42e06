"""`tasks synthesize` fanned out over a Ray cluster: one package per task, rows and reports back to the driver."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from swe_srl.config.sections import ClusterConfig
from swe_srl.config.synthesize import SynthConfig
from swe_srl.recipes.synthesize import REPORT_FILE, TASKS_FILE, synthesize
from tests.factory.sdists import make_sdist, sdist_or_skip

pytestmark = [pytest.mark.docker, pytest.mark.slow]
TOOLZ = "toolz==0.12.1"
CACHE = Path.home() / ".cache" / "swe-srl" / "factory"


def test_packages_run_as_cluster_tasks_and_only_the_driver_writes(tmp_path: Path, ray_cluster, docker_client):
    sdist_or_skip(TOOLZ, CACHE)
    no_tests = make_sdist(tmp_path, "notests", "1.0", {"notests/__init__.py": "def f():\n    return 1\n"})
    out = tmp_path / "out"
    config = SynthConfig(out=out, max_per_package=2, max_tries=6, workers=1, suite_timeout=120, cache=CACHE)
    tasks, report = synthesize([str(no_tests), TOOLZ], config, cluster=ClusterConfig(ray=ray_cluster.address))

    packages = {package.spec: package for package in report.packages}
    assert packages[str(no_tests)].stage == "tests" and "ships no tests" in packages[str(no_tests)].error
    toolz = packages[TOOLZ]
    assert toolz.error == "" and 1 <= sum(toolz.kept.values()) == len(tasks) <= 2
    rows = [json.loads(line) for line in (out / TASKS_FILE).read_text().splitlines()]
    assert [row["instance_id"] for row in rows] == [task.instance_id for task in tasks]
    saved = json.loads((out / REPORT_FILE).read_text())
    assert sorted(p["spec"] for p in saved["packages"]) == sorted([str(no_tests), TOOLZ])
