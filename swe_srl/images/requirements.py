"""A package's test requirements: read from its sdist's metadata, downloaded as wheels on the host.

Containers have no network, so whatever the tests import is fetched here as wheels for the
image's Python (CPython 3.11 on manylinux x86-64) and installed in the image from that folder.
"""

from __future__ import annotations

import ast
import configparser
import logging
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from swe_srl.images.sdist import normalize

log = logging.getLogger(__name__)

TEST_EXTRAS = ("test", "tests", "testing")
REQUIREMENT_FILES = ("requirements/tests.txt", "requirements/test.txt", "requirements/tests.in",
                     "requirements-test.txt", "requirements-tests.txt", "test-requirements.txt",
                     "tests/requirements.txt")
# Tools that type-check, lint, measure coverage or parallelise: heavy, and no test's outcome needs them.
SKIP = {"mypy", "pytest-mypy-plugins", "pytest-mypy", "pre-commit", "coverage", "pytest-cov", "tox", "nox",
        "sphinx", "flake8", "pylint", "ruff", "black", "isort", "codecov", "pytest-xdist", "twine", "build"}
PYTHON_VERSION = "3.11"  # the base image's python3
PLATFORMS = ("manylinux2014_x86_64", "manylinux_2_28_x86_64", "manylinux_2_34_x86_64")
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[([^\]]*)\])?")


def requirement_name(requirement: str) -> str:
    match = _NAME.match(requirement)
    return normalize(match.group(1)) if match else ""


def read_test_requirements(repo: Path, name: str) -> list[str]:
    """Runtime and test requirements declared in pyproject.toml, setup.cfg, setup.py or requirement files."""
    declared: list[str] = []
    extras: dict[str, list[str]] = {}
    pyproject = repo / "pyproject.toml"
    if pyproject.is_file():
        try:
            project = tomllib.loads(pyproject.read_text(errors="replace")).get("project", {})
        except tomllib.TOMLDecodeError as err:
            log.warning("%s: unreadable pyproject.toml (%s)", name, err)
            project = {}
        declared += list(project.get("dependencies", []))
        extras.update({normalize(k): list(v) for k, v in project.get("optional-dependencies", {}).items()})
    cfg = repo / "setup.cfg"
    if cfg.is_file():
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read_string(cfg.read_text(errors="replace"))
            declared += _lines(parser.get("options", "install_requires", fallback=""))
            if parser.has_section("options.extras_require"):
                for key, value in parser.items("options.extras_require"):
                    extras.setdefault(normalize(key), _lines(value))
        except configparser.Error as err:
            log.warning("%s: unreadable setup.cfg (%s)", name, err)
    setup_py = repo / "setup.py"
    if setup_py.is_file():
        install, setup_extras, tests_require = _setup_py_requirements(setup_py)
        declared += install + tests_require
        for key, value in setup_extras.items():
            extras.setdefault(normalize(key), value)
    for extra in TEST_EXTRAS:
        declared += _expand(extras.get(extra, []), extras, normalize(name), set())
    for rel in REQUIREMENT_FILES:
        path = repo / rel
        if path.is_file():
            declared += [line for line in _lines(path.read_text(errors="replace")) if not line.startswith("-")]
    own = normalize(name)
    kept: list[str] = []
    for requirement in declared:
        req_name = requirement_name(requirement)
        if req_name and req_name != own and req_name not in SKIP and requirement not in kept:
            kept.append(requirement)
    return kept


def _lines(text: str) -> list[str]:
    return [line.split(" #")[0].strip() for line in text.splitlines()
            if line.strip() and not line.strip().startswith("#")]


def _expand(requirements: list[str], extras: dict[str, list[str]], own: str, seen: set[str]) -> list[str]:
    """Requirements with self-references (`attrs[tests-no-zope]`) replaced by that extra's list."""
    out: list[str] = []
    for requirement in requirements:
        match = _NAME.match(requirement)
        if match and normalize(match.group(1)) == own and match.group(3):
            for extra in (normalize(e) for e in match.group(3).split(",")):
                if extra not in seen:
                    seen.add(extra)
                    out += _expand(extras.get(extra, []), extras, own, seen)
        else:
            out.append(requirement)
    return out


def _setup_py_requirements(path: Path) -> tuple[list[str], dict[str, list[str]], list[str]]:
    """Literal install_requires / extras_require / tests_require of a setup() call, if literal."""
    try:
        tree = ast.parse(path.read_text(errors="replace"))
    except SyntaxError:
        return [], {}, []
    found: dict[str, object] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg in {"install_requires", "extras_require", "tests_require"}:
                    try:
                        found[keyword.arg] = ast.literal_eval(keyword.value)
                    except ValueError:
                        pass
    def strings(value: object) -> list[str]:
        return [v for v in value if isinstance(v, str)] if isinstance(value, (list, tuple)) else []
    extras = found.get("extras_require")
    extras = {k: strings(v) for k, v in extras.items()} if isinstance(extras, dict) else {}
    return strings(found.get("install_requires")), extras, strings(found.get("tests_require"))


def download_wheels(requirements: list[str], dest: Path, package: str) -> tuple[list[str], list[str]]:
    """Wheels for ``requirements`` (and their dependencies, and pip itself) into ``dest``.

    Returns (requirements fetched, requirements that could not be); a requirement with no wheel
    for the image's Python is skipped with a warning, and the tests that need it fail at base.
    """
    dest.mkdir(parents=True, exist_ok=True)
    if not requirements:
        return [], []
    if _pip_download(["pip", *requirements], dest) is None:
        return list(requirements), []
    _pip_download(["pip"], dest)
    fetched, failed = [], []
    for requirement in requirements:  # one at a time, to find the ones that cannot be had
        error = _pip_download([requirement], dest)
        if error is None:
            fetched.append(requirement)
        else:
            failed.append(requirement)
            log.warning("%s: no wheel for test requirement %r; tests that need it will be excluded: %s",
                        package, requirement, error)
    return fetched, failed


def _pip_download(requirements: list[str], dest: Path) -> str | None:
    platforms = [arg for p in PLATFORMS for arg in ("--platform", p)]
    command = [sys.executable, "-m", "pip", "download", "-q", "--only-binary", ":all:", "--python-version",
               PYTHON_VERSION, "--implementation", "cp", *platforms, "-d", str(dest), *requirements]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode == 0:
        return None
    return " ".join((done.stdout + done.stderr).strip().splitlines()[-2:])
