"""The package layout is the pipeline: imports point one way (inputs <- resolve <- render <- output <- incremental
<- build <- cli), and no module imports itself back through another. Type-only imports (under TYPE_CHECKING) are
annotations, not dependencies, and are left out."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "aimgen"

# rank of each top-level part of aimgen: a module may import only its own part or parts of a lower rank
LAYERS = {
    "diagnostics": 0, "kube": 0,
    "results": 1,
    "inputs": 2,
    "resolve": 3, "validate": 3,
    "render": 4, "recipes": 4,
    "output": 5,
    "incremental": 6,
    "build": 7,
    "diff": 8,
    "cli": 9, "__main__": 10,
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def runtime_imports(path: Path) -> set[str]:
    """The aimgen modules a file imports when it runs (anywhere in it, but not under `if TYPE_CHECKING:`)."""
    tree = ast.parse(path.read_text())
    type_only = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(
        node.test) for stmt in node.body for n in ast.walk(stmt)}
    found = set()
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("aimgen"):
            assert node.level == 0, f"{path}: relative import"
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if (PACKAGE.parent / sub.replace(".", "/")).with_suffix(".py").exists() else node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("aimgen")}
    return found


def graph() -> dict[str, set[str]]:
    return {module_name(p): runtime_imports(p) for p in PACKAGE.rglob("*.py")}


def part(module: str) -> str:
    return module.split(".")[1] if "." in module else module


def test_every_part_has_a_layer():
    assert {part(m) for m in graph() if m != "aimgen"} <= set(LAYERS)


def test_imports_point_down_the_pipeline():
    wrong = [f"{m} imports {d}" for m, deps in graph().items() if m != "aimgen" for d in deps
             if part(d) != part(m) and LAYERS[part(d)] >= LAYERS[part(m)]]
    assert wrong == []


def test_no_import_cycles():
    deps = graph()
    state: dict[str, int] = {}
    cycles = []

    def visit(module: str, stack: list[str]) -> None:
        state[module] = 1
        for d in sorted(deps.get(module, ())):
            if state.get(d) == 1:
                cycles.append(" -> ".join([*stack[stack.index(d):], d]))
            elif d in deps and d not in state:
                visit(d, [*stack, d])
        state[module] = 2

    for module in sorted(deps):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_every_package_says_what_it_is_and_may_import():
    for init in PACKAGE.glob("*/__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        assert "import" in doc.lower(), init
