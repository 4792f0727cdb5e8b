"""flows/domain/ is pure: plain data in, plain data out; no Prefect, no database session."""

import ast
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parents[1] / "flows" / "domain"
FORBIDDEN = ("prefect", "sqlalchemy", "db", "alembic", "flows.cli")


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


@pytest.mark.parametrize("path", sorted(DOMAIN.glob("*.py")), ids=lambda p: p.name)
def test_domain_module_imports_no_prefect_or_session(path: Path) -> None:
    bad = [n for n in _imports(path) if n.split(".")[0] in FORBIDDEN or n.startswith(FORBIDDEN)]
    assert bad == []
