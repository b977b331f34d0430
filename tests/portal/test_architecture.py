"""The dependency rules of docs/architecture.md, checked on the source."""

import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _import_graph():
    spec = importlib.util.spec_from_file_location("import_graph", REPO / "scripts" / "import_graph.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_no_import_cycle_and_no_unexplained_local_import():
    graph = _import_graph()
    modules = {graph.module_name(p) for p in graph.source_files()}
    edges, local = graph.collect(modules)
    assert graph.cycles(edges) == []
    assert local == []


def test_the_checker_finds_cycles():
    graph = _import_graph()
    edges = {"a": {"b"}, "b": {"a"}, "c": set()}
    assert graph.cycles(edges) == [["a", "b"]]


def test_docs_stand_alone():
    """The project's docs never send a reader to a machine path or a folder outside the repository."""
    for doc in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        text = doc.read_text(encoding="utf-8")
        assert "/work/" not in text and "../shared" not in text, doc.name
