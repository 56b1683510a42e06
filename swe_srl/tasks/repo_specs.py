"""The per-repository grading table (repo_specs.yaml): test command, setup, log parser, image rule per version.

Rows written before swebench 5 (older SWE-bench Verified exports, SWE-Gym) carry no image, eval
script, log parser or eval type; this table is how `swe-srl tasks convert` fills them. It is data,
read once; a repository or version it does not hold is refused by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import yaml

from swe_srl.errors import DataError

TABLE = Path(__file__).with_name("repo_specs.yaml")
# Where each image naming rule puts an instance's image; "__" in the id becomes the separator.
IMAGE_RULES = {
    "swebench": ("swebench/sweb.eval.x86_64.", "_1776_"),  # SWE-bench's published instance images
    "swegym": ("xingyaoww/sweb.eval.x86_64.", "_s_"),  # SWE-Gym's published instance images
}
TEST_FILE_FORMS = ("as_paths", "django_modules")
# The environment every SWE-bench and SWE-Gym instance image holds its repository's dependencies in.
ACTIVATE = ("source /opt/miniconda3/bin/activate", "conda activate testbed")


@dataclass(frozen=True)
class RepoSpec:
    """How one repository's rows at one version are graded."""

    repo: str  # owner/name, as in the rows
    version: str  # the rows' version field
    test_cmd: str  # run on the test files the row's test_patch touches
    pre_test: tuple[str, ...]  # run after the environment is activated, before the tests
    log_parser: str  # a key of swebench 5's PARSER_REGISTRY
    eval_type: str  # swebench 5's EvalType value
    image_rule: str  # a key of IMAGE_RULES
    test_files: str  # a TEST_FILE_FORMS value: how the test files are named on the command line

    def image(self, instance_id: str) -> str:
        """The instance image this repository's rule names for ``instance_id``."""
        prefix, separator = IMAGE_RULES[self.image_rule]
        return f"{prefix}{instance_id.replace('__', separator).lower()}:latest"


def repo_spec(repo: str, version: str) -> RepoSpec:
    """The table's spec for ``repo`` at ``version``; DataError naming what the table lacks."""
    table = _table()
    entry = table.get(repo)
    if entry is None:
        raise DataError(f"repository {repo!r} is not in the grading table {TABLE.name} "
                        f"(it knows {len(table)}); add it there, or join the rows with a swebench 5 "
                        "dataset that carries their fields (--reference)", field="repo")
    for spec in entry["specs"]:
        if version in spec["versions"]:
            return RepoSpec(repo, version, spec["test_cmd"], tuple(spec.get("pre_test", ())), entry["log_parser"],
                            entry.get("eval_type", "pass_and_fail"), entry["image"],
                            entry.get("test_files", "as_paths"))
    raise DataError(f"{repo} version {version!r} is not in the grading table {TABLE.name}; add it there, or join "
                    "the rows with a swebench 5 dataset that carries their fields (--reference)", field="version")


def known_repos() -> tuple[str, ...]:
    """Every repository the table holds."""
    return tuple(_table())


@lru_cache(maxsize=1)
def _table() -> Mapping[str, Any]:
    data = yaml.safe_load(TABLE.read_text(encoding="utf-8"))
    repos = data["repos"]
    for repo, entry in repos.items():
        if entry["image"] not in IMAGE_RULES or entry.get("test_files", "as_paths") not in TEST_FILE_FORMS:
            raise DataError(f"{repo}: unknown image rule or test_files form", source=str(TABLE))
    return repos
