"""The package's imports run one way: core <- components <- recipes <- cli, with no cycles.

Every import of a swe_srl module counts, at the top of a file or inside a function, so the
structure README's ARCHITECTURE section describes cannot decay unnoticed. A new top-level module
or package must be placed in LAYERS before this test passes.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "swe_srl"

# (layer, rank): a module may import from a lower layer, or from a lower rank of its own layer.
# Modules of one package may import each other (cycles aside).
LAYERS: dict[str, tuple[int, int]] = {
    # 0 core: pure records and functions
    "__init__": (0, 0), "errors": (0, 0), "atomic": (0, 0), "pictures": (0, 0), "batch_decoding": (0, 0), "actions": (0, 1), "dialects": (0, 1), "tasks": (0, 2),
    "trajectory": (0, 2), "reward": (0, 2), "prompt": (0, 3), "formats": (0, 4), "stepwise": (0, 4),
    "prompt_recipe": (0, 5), "config": (0, 6),
    # 1 components: effects at the edges
    "host": (1, 0), "dataset": (1, 1), "images": (1, 1), "sandbox": (1, 2), "evaluate": (1, 3),
    "agent": (1, 3), "train": (1, 3), "jobs": (1, 4), "factory": (1, 4),
    # 2 recipes, 3 the command line
    "recipes": (2, 0), "tables": (3, 0), "flags": (3, 0), "cli": (3, 1),
}
LAYER_NAMES = ("core", "components", "recipes", "cli")
# The demo runs the other recipes one after another: the one recipe allowed to call recipes.
RECIPES_CALLING_RECIPES = {"swe_srl.recipes.demo"}
# Third-party modules with effects (engines, accelerators, network) that the core never imports.
EFFECTFUL = {"docker", "torch", "transformers", "peft", "vllm", "ray", "openai", "requests", "httpx"}


def module_files(root: Path = PACKAGE) -> dict[str, Path]:
    """``swe_srl.x.y`` -> its file, for every module under ``root``."""
    modules = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> tuple[set[str], set[str]]:
    """(swe_srl modules imported anywhere in the file, top-level names of other packages imported)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    inside, outside = set(), set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # `from pkg import module` imports the module; `from module import name` the module.
            targets = [f"{target}.{a.name}" if f"{target}.{a.name}" in modules else target for a in node.names]
        else:
            continue
        for target in targets:
            if target == "swe_srl" or target.startswith("swe_srl."):
                while target not in modules and "." in target:
                    target = target.rpartition(".")[0]
                inside.add(target)
            else:
                outside.add(target.split(".")[0])
    inside.discard(name)
    return inside, outside


def graph(root: Path = PACKAGE) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    modules = module_files(root)
    edges, third_party = {}, {}
    for name, path in modules.items():
        edges[name], third_party[name] = imports_of(name, path, modules)
    return edges, third_party


def place(module: str) -> tuple[str, tuple[int, int]]:
    """(top-level package or module under swe_srl, its (layer, rank)); KeyError when unplaced."""
    top = module.split(".")[1] if "." in module else "__init__"
    return top, LAYERS[top]


def violations(edges: dict[str, set[str]], third_party: dict[str, set[str]] | None = None) -> list[str]:
    """Every arrow that runs against the layers, every import cycle, every effect in the core."""
    found = []
    for source in sorted(edges):
        try:
            top, (layer, rank) = place(source)
        except KeyError:
            found.append(f"{source} is in no layer: add its package to LAYERS in tests/test_layers.py")
            continue
        for target in sorted(edges[source]):
            try:
                target_top, (target_layer, target_rank) = place(target)
            except KeyError:
                continue  # reported as its own module
            if target_top == top:
                if top == "recipes" and source not in RECIPES_CALLING_RECIPES:
                    found.append(f"recipe {source} imports recipe {target}: move what they share into a component")
                continue
            if (target_layer, target_rank) >= (layer, rank):
                found.append(f"{source} ({LAYER_NAMES[layer]} {rank}) imports {target} "
                             f"({LAYER_NAMES[target_layer]} {target_rank}): the arrow runs upwards")
        if third_party is not None and layer == 0:
            for lib in sorted(third_party.get(source, set()) & EFFECTFUL):
                found.append(f"core module {source} imports {lib}: effects belong in a component")
    found.extend(f"import cycle: {' -> '.join(cycle)}" for cycle in cycles(edges))
    return found


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(_a_cycle(sorted(component), edges))
    return components


def _a_cycle(component: list[str], edges: dict[str, set[str]]) -> list[str]:
    """A closed path through the component's first module, for the message."""
    members = set(component)
    path = [component[0]]
    seen = {component[0]}
    while True:
        nxt = sorted(t for t in edges[path[-1]] if t in members)
        back = [t for t in nxt if t == component[0]]
        if back and len(path) > 1:
            return path + [component[0]]
        fresh = [t for t in nxt if t not in seen]
        if not fresh:
            return path + [nxt[0]]
        path.append(fresh[0])
        seen.add(fresh[0])


def test_the_package_follows_the_layers():
    edges, third_party = graph()
    assert len(edges) > 50, "the walk found too few modules"
    problems = violations(edges, third_party)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    "edges, expected",
    [
        # a core module reaching up into a component
        ({"swe_srl.actions": {"swe_srl.sandbox.docker"}, "swe_srl.sandbox.docker": set()}, "runs upwards"),
        # two components of one rank importing each other's package
        ({"swe_srl.sandbox.docker": {"swe_srl.evaluate.grade"}, "swe_srl.evaluate.grade": set()}, "runs upwards"),
        # images reaching up into the factory, as sandbox/images.py once did
        ({"swe_srl.images.build": {"swe_srl.factory.rebuild"}, "swe_srl.factory.rebuild": set()}, "runs upwards"),
        # a recipe importing another recipe
        ({"swe_srl.recipes.evaluate": {"swe_srl.recipes.collect"}, "swe_srl.recipes.collect": set()}, "imports recipe"),
        # a cycle inside one package, as factory/mutations.py and mutate_expr.py once were
        ({"swe_srl.factory.a": {"swe_srl.factory.b"}, "swe_srl.factory.b": {"swe_srl.factory.a"}}, "import cycle"),
        # a module in no layer
        ({"swe_srl.misc": set()}, "in no layer"),
    ],
)
def test_the_checker_catches_each_kind_of_bad_arrow(edges, expected):
    problems = violations(edges)
    assert any(expected in p for p in problems), problems


def test_the_checker_sees_imports_inside_functions(tmp_path):
    root = tmp_path / "swe_srl"
    (root / "sandbox").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "sandbox" / "__init__.py").write_text("")
    (root / "actions.py").write_text("def f():\n    from swe_srl.sandbox import docker\n    return docker\n")
    (root / "sandbox" / "docker.py").write_text("import torch\nfrom ..actions import f\n")
    edges, third_party = graph(root)
    assert edges["swe_srl.actions"] == {"swe_srl.sandbox.docker"}
    assert edges["swe_srl.sandbox.docker"] == {"swe_srl.actions"}
    problems = violations(edges, third_party)
    assert any("swe_srl.actions (core 1) imports swe_srl.sandbox.docker" in p for p in problems)
    assert any("import cycle" in p for p in problems)
