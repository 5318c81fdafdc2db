"""The package's imports point one way: no cycle (counting imports inside functions), and the kernel
(``rillflow.core`` and ``rillflow.errors``) imports no feature and hides no import in a function."""

from __future__ import annotations

import ast
from pathlib import Path

import rillflow

SRC = Path(rillflow.__file__).resolve().parent
KERNEL = ("rillflow.core", "rillflow.errors")
# Inside the kernel, each module may import only modules of an earlier layer (or of its own layer when
# the order within the layer says so: listed earlier).
CORE_ORDER = [
    "context", "graph", "bridge", "phases", "travel",
    "hooks", "extensions",
    "walk", "fanout", "runner", "stream", "remote_worker", "remote_chunks", "remote_batch",
    "node", "flow", "graph_model", "async_nodes", "remote_runs", "run_many",
]  # fmt: skip


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def resolve(dotted: str) -> str | None:
    """``dotted`` if it names a module or package of rillflow, else None."""
    where = SRC.parent / dotted.replace(".", "/")
    return dotted if where.with_suffix(".py").exists() or where.is_dir() else None


def imports_of(path: Path) -> list[tuple[str, bool]]:
    """(imported rillflow module, imported inside a function) for each import in ``path``."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[tuple[str, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            if isinstance(child, ast.If) and getattr(child.test, "id", "") == "TYPE_CHECKING":
                continue  # annotations only
            if isinstance(child, ast.ImportFrom):
                base = package.split(".")[: len(package.split(".")) - max(child.level - 1, 0)]
                target = (
                    ".".join([*base, child.module or ""]).strip(".") if child.level else child.module or ""
                )
                # `from . import durable` imports a module; `from .node import BaseNode` a name of one
                found.extend((resolve(f"{target}.{alias.name}") or target, inside) for alias in child.names)
            elif isinstance(child, ast.Import):
                found.extend((alias.name, inside) for alias in child.names)
            visit(child, inside)

    visit(ast.parse(path.read_text()), False)
    return [(t, f) for t, f in found if t and t.split(".")[0] == "rillflow"]


def graph() -> dict[str, list[tuple[str, bool]]]:
    return {module_name(p): imports_of(p) for p in SRC.rglob("*.py")}


def test_no_import_cycle_even_through_imports_inside_functions() -> None:
    edges = {
        m: {t for t, _ in targets if t != m and not t.startswith(m + ".")} for m, targets in graph().items()
    }
    done: set[str] = set()

    def walk(module: str, trail: list[str]) -> None:
        if module in trail:
            raise AssertionError("import cycle: " + " -> ".join([*trail[trail.index(module) :], module]))
        if module in done or module not in edges:
            return
        for target in sorted(edges[module]):
            walk(target, [*trail, module])
        done.add(module)

    for module in sorted(edges):
        walk(module, [])


def test_the_kernel_imports_no_feature_and_nothing_inside_functions() -> None:
    for module, targets in graph().items():
        if not module.startswith(KERNEL):
            continue
        for target, in_function in targets:
            assert target.startswith(KERNEL), f"{module} imports the feature {target}"
            assert not in_function, f"{module} imports {target} inside a function"


def test_kernel_modules_import_only_earlier_layers() -> None:
    modules = graph()
    for name in CORE_ORDER:
        module = f"rillflow.core.{name}"
        assert module in modules, f"{module} is missing from the layer list"
        for target, _ in modules[module]:
            if target.startswith("rillflow.core."):
                other = target.split(".")[2]
                assert CORE_ORDER.index(other) < CORE_ORDER.index(name), (
                    f"{module} imports {target}, a later layer"
                )
    listed = {f"rillflow.core.{n}" for n in CORE_ORDER} | {"rillflow.core"}
    assert {m for m in modules if m.startswith("rillflow.core")} == listed, (
        "a kernel module is not in a layer"
    )
