"""Imports point one way: portal (the core) <- accounts <- allocations and compliance.

Uses the parsing of scripts/import_graph.py, which counts imports inside functions too."""

import ast
import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("import_graph", REPO / "scripts" / "import_graph.py")
import_graph = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(import_graph)

LAYER = {"portal": 0, "accounts": 1, "allocations": 2, "compliance": 2}


def _imports_above(package: str):
    """(file, line, statement, explained) for every import in `package` of a package above it."""
    for path in import_graph.source_files():
        module = import_graph.module_name(path)
        if module.split(".")[0] != package:
            continue
        lines = path.read_text().splitlines()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                targets = [import_graph.resolve(module, path.name == "__init__.py", node)]
            else:
                continue
            for target in targets:
                top = target.split(".")[0]
                if top in LAYER and LAYER[top] > LAYER[package]:
                    before = lines[node.lineno - 2].strip() if node.lineno > 1 else ""
                    explained = before.startswith("#") or "#" in lines[node.lineno - 1]
                    yield f"{path.relative_to(REPO)}:{node.lineno}", ast.unparse(node), explained


def test_the_core_imports_no_app_built_on_it():
    """Only the root URLconf may, with a comment saying why (Django resolves every URL from it)."""
    found = list(_imports_above("portal"))
    assert [(where, statement) for where, statement, explained in found if not explained] == []
    assert {where.split(":")[0] for where, _, _ in found} <= {"portal/urls.py"}


def test_accounts_imports_no_domain_app():
    assert [where for where, _, _ in _imports_above("accounts")] == []


def test_no_cycle_and_no_unexplained_local_import_in_the_core_or_accounts():
    modules = {import_graph.module_name(p) for p in import_graph.source_files()}
    edges, local = import_graph.collect(modules)
    ours = ("portal", "accounts")
    assert [c for c in import_graph.cycles(edges) if any(m.split(".")[0] in ours for m in c)] == []
    assert [line for line in local if line.split("/")[0] in ours] == []
