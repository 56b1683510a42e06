"""The second-copy rule on the real engine: more-itertools and attrs (whose pristine source Debian's
base image holds twice and once) give tasks whose sandboxes read no copy of the package, and a
task whose image has a planted copy is dropped and counted under its own reason.

The sdists come from PyPI through pip (kept in a cache); without the index those tests skip.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from swe_srl.config.synthesize import SynthConfig
from swe_srl.factory.report import PackageReport
from swe_srl.factory.second_copy import copies_in_sandbox
from swe_srl.factory.validate import SECOND_COPY
from swe_srl.host.docker import build_image
from swe_srl.images import package as package_module
from swe_srl.images.package import prepare_package
from swe_srl.recipes.synthesize import synthesize, synthesize_package
from swe_srl.sandbox.docker import DockerSandbox
from tests.factory.sdists import make_sdist, sdist_or_skip

pytestmark = [pytest.mark.docker, pytest.mark.slow]
CACHE = Path.home() / ".cache" / "swe-srl" / "factory"
# The package, the folders Debian's base image holds it in (before the purge), and kinds that keep a task fast.
PACKAGES = {
    "more-itertools==10.2.0": (("more_itertools", "pkg_resources/_vendor/more_itertools"), None),
    "attrs==23.2.0": (("attr", "attrs"), ("change_exception", "remove_early_return", "shift_constant")),
}
SITE = "/usr/lib/python3/dist-packages"


@pytest.mark.parametrize("spec", sorted(PACKAGES))
def test_tasks_of_packages_debian_ships_read_no_second_copy(spec, docker_client, tmp_path):
    sdist_or_skip(spec, CACHE)
    folders, kinds = PACKAGES[spec]
    config = SynthConfig(out=tmp_path / "out", max_per_package=1, max_tries=4, workers=1, suite_timeout=180,
                         kinds=kinds, cache=CACHE)
    tasks, report = synthesize([spec], config, client=docker_client)
    (package,) = report.packages
    assert not package.error, package.error
    assert len(tasks) == 1 and not any(SECOND_COPY in reasons for reasons in package.dropped.values()), package
    prepared = prepare_package(spec, CACHE, docker_client)
    assert copies_in_sandbox(tasks[0], prepared.fingerprint) == []
    top = folders[0].split("/")[-1]
    with DockerSandbox.start(tasks[0]) as sandbox:
        listed = sandbox.run(f"ls -d {' '.join(f'{SITE}/{f}' for f in folders)}; echo; python3 -c "
                             f"'import {top}; print({top}.__file__)'")
    assert "No such file or directory" in listed.output and listed.output.count("No such file") == len(folders)
    assert "/testbed/" in listed.output.splitlines()[-1], listed.output


def test_a_task_whose_image_holds_a_planted_copy_is_dropped_with_its_reason(docker_client, tmp_path, monkeypatch):
    functions = "".join(f"def add{i}(x):\n    if x is None:\n        return {i}\n    return x + {i}\n\n"
                        for i in range(4))
    tests = "".join(f"def test_add{i}():\n    assert add{i}(1) == {i + 1}\n    assert add{i}(None) == {i}\n\n"
                    for i in range(4))
    sdist = make_sdist(tmp_path, "plantpkg", "1.0", {"plantpkg/__init__.py": functions,
                                                     "tests/test_plantpkg.py": "from plantpkg import *\n\n" + tests})
    vendored = tmp_path / "vendored"
    (vendored / "plantpkg").mkdir(parents=True)
    (vendored / "plantpkg" / "__init__.py").write_text(functions)
    real = package_module.ensure_env_image

    def planted(env, client):  # the copy goes in after the purge, as a leak the purge missed would be
        tag = real(env, client)
        build_image(client, tag + "-planted", f"FROM {tag}\nCOPY vendored /opt/vendor/\n", {"vendored": vendored}, {})
        return tag + "-planted"

    monkeypatch.setattr(package_module, "ensure_env_image", planted)
    config = SynthConfig(out=tmp_path / "out", max_per_package=1, max_tries=3, workers=1, suite_timeout=60,
                         cache=tmp_path / "cache")
    report = PackageReport(str(sdist))
    tasks = synthesize_package(str(sdist), config, report, docker_client)
    assert tasks == []
    dropped = sum(reasons.get(SECOND_COPY, 0) for reasons in report.dropped.values())
    assert dropped >= 1, report.to_json()
