"""The layers import downwards only, and no module of amity imports itself in a circle.

    config, flows.domain      settings; pure rules (plain data in, plain data out)
    db                        models, sessions, queries and stores
    flows.outbound            the outside world: transport, delivery ledger, CalDAV, files
    flows.engine, flows.*     Prefect plumbing; one module per flow
    flows.cli                 the command line: parses, calls a flow or a query, prints

Every import counts, also those inside functions: a cycle hidden in a function is a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("config", "db", "flows")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {
    _module_name(p): p
    for pkg in PACKAGES
    for p in sorted((ROOT / pkg).rglob("*.py"))
    if "migrations" not in p.parts
}


def _imports(path: Path) -> list[str]:
    """Every module ``path`` imports (absolute names; ``from a import b`` may name a module)."""
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            names += [f"{node.module}.{alias.name}" for alias in node.names]
    return names


def _internal(name: str) -> str | None:
    """The amity module ``name`` refers to (or None for third-party and stdlib names)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _layer(module: str) -> str:
    if module == "flows.__main__":  # `python -m flows` is the command line
        return "flows.cli"
    for prefix in ("flows.domain", "flows.outbound", "flows.engine", "flows.cli"):
        if module == prefix or module.startswith(prefix + "."):
            return prefix
    return "flows" if module.startswith("flows") else module.split(".")[0]


#: what each layer may import from amity (itself always)
ALLOWED = {
    "config": {"config"},
    "flows.domain": {"flows.domain"},
    "db": {"config", "db", "flows.domain"},
    "flows.outbound": {"config", "db", "flows.domain", "flows.outbound"},
    "flows.engine": {"config", "db", "flows.domain", "flows.outbound", "flows.engine", "flows"},
    "flows": {"config", "db", "flows.domain", "flows.outbound", "flows.engine", "flows"},
    "flows.cli": {
        "config",
        "db",
        "flows.domain",
        "flows.outbound",
        "flows.engine",
        "flows",
        "flows.cli",
    },
}
FORBIDDEN_THIRD_PARTY = {
    "flows.domain": ("prefect", "sqlalchemy", "alembic"),
    "db": ("prefect",),
}


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        targets = {_internal(n) for n in _imports(path)}
        graph[module] = {t for t in targets if t and t != module and t in MODULES}
    return graph


@pytest.mark.parametrize("module", sorted(MODULES), ids=str)
def test_module_imports_only_lower_layers(module: str) -> None:
    layer = _layer(module)
    bad = sorted(t for t in _graph()[module] if _layer(t) not in ALLOWED[layer])
    assert bad == [], f"{module} ({layer}) imports {bad}"


@pytest.mark.parametrize("module", sorted(MODULES), ids=str)
def test_module_imports_no_forbidden_library(module: str) -> None:
    forbidden = FORBIDDEN_THIRD_PARTY.get(_layer(module), ())
    bad = [n for n in _imports(MODULES[module]) if n.split(".")[0] in forbidden]
    assert bad == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
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
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles() -> None:
    assert _cycles(_graph()) == []


def test_cycle_detection_finds_a_planted_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_layer_rule_rejects_domain_importing_db() -> None:
    assert "db" not in ALLOWED[_layer("flows.domain.letters")]
    assert _layer("flows.cli.partners") == "flows.cli"
    assert "flows.cli" not in ALLOWED[_layer("flows.invitations")]
