"""Regenerate the initial migration from the models (allowed only while nothing has shipped).

.venv/bin/python -m db.regen
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from alembic import command

from db.migrate import MIGRATIONS_DIR, alembic_config

REVISION = "0001"


def main() -> None:
    for old in (MIGRATIONS_DIR / "versions").glob("*.py"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'regen.db'}"
        command.revision(
            alembic_config(url), message="initial schema", autogenerate=True, rev_id=REVISION
        )
    print(f"wrote {next((MIGRATIONS_DIR / 'versions').glob('*.py'))}")


if __name__ == "__main__":
    main()
