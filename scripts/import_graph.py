"""Report first-party import cycles and unexplained imports inside functions.

python scripts/import_graph.py            # exit 1 when a cycle or an unexplained local import exists
python scripts/import_graph.py --edges    # print the module graph as "a -> b" lines

Every first-party import counts for cycles, including one inside a function (moving an import into
a function hides a cycle from Python, not from the design). A first-party import inside a function
is allowed only with a comment on the line before it or on the same line that says why (Django's
app loading forces a few: AppConfig.ready, the Celery app).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("portal", "accounts", "allocations", "compliance")
SKIP_PARTS = {"migrations", "__pycache__"}


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def source_files() -> list[Path]:
    files = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if SKIP_PARTS.isdisjoint(path.relative_to(ROOT).parts):
                files.append(path)
    return files


def resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _first_party(node, name: str, is_package: bool, modules: set[str]) -> list[str]:
    found = []
    if isinstance(node, ast.Import):
        found = [alias.name for alias in node.names]
    else:
        base = resolve(name, is_package, node)
        for alias in node.names:
            candidate = f"{base}.{alias.name}"
            found.append(candidate if candidate in modules else base)
    return [m for m in found if m.split(".")[0] in PACKAGES]


def _closest_module(mod: str, modules: set[str]) -> str | None:
    while mod and mod not in modules:
        mod = mod.rpartition(".")[0]
    return mod or None


def _scan(path: Path, modules: set[str]) -> tuple[set[str], list[str]]:
    """The modules one file imports (at any depth), and its function-level imports without a reason."""
    name = module_name(path)
    is_package = path.name == "__init__.py"
    text = path.read_text()
    lines = text.splitlines()
    targets: set[str] = set()
    local: list[str] = []

    def visit(node, in_function: bool):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue  # typing-only imports do not run
            if isinstance(child, ast.Import | ast.ImportFrom):
                mods = _first_party(child, name, is_package, modules)
                if not mods:
                    continue
                if in_function:
                    before = lines[child.lineno - 2].strip() if child.lineno > 1 else ""
                    same = lines[child.lineno - 1]
                    if not (before.startswith("#") or "#" in same):
                        local.append(f"{path.relative_to(ROOT)}:{child.lineno}: {ast.unparse(child)}")
                # An import inside a function still makes a dependency: it counts for cycles too.
                for mod in mods:
                    target = _closest_module(mod, modules)
                    if target and target != name:
                        targets.add(target)
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                visit(child, True)
            else:
                visit(child, in_function)

    visit(ast.parse(text), False)
    return targets, local


def collect(modules: set[str]):
    """(module -> set of imported first-party modules, list of local-import findings)."""
    edges: dict[str, set[str]] = {}
    local: list[str] = []
    for path in source_files():
        targets, found = _scan(path, modules)
        edges[module_name(path)] = targets
        local.extend(found)
    return edges, local


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    result: list[list[str]] = []
    counter = [0]
    sys.setrecursionlimit(10000)

    def strong(v: str):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                result.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            strong(v)
    return result


def main(argv: list[str]) -> int:
    modules = {module_name(p) for p in source_files()}
    edges, local = collect(modules)
    if "--edges" in argv:
        for a in sorted(edges):
            for b in sorted(edges[a]):
                print(f"{a} -> {b}")
        return 0
    found = cycles(edges)
    for component in found:
        print("cycle:", " <-> ".join(component))
    for line in local:
        print("local import without a reason:", line)
    print(f"{len(modules)} modules, {sum(len(v) for v in edges.values())} imports, "
          f"{len(found)} cycles, {len(local)} unexplained local imports")
    return 1 if found or local else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
