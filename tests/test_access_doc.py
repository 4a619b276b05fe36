"""docs/ACCESS.md is what scripts/access_doc.py makes from the model and the catalog."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from api.db.access import render
from api.db.migrate import migrate
from api.db.session import connect

DOC = Path(__file__).resolve().parents[1] / "docs" / "ACCESS.md"


def test_access_doc_matches_the_catalog(new_database: Callable[[], str]) -> None:
    with connect(new_database()) as conn:
        conn.autocommit = True
        migrate(conn)
        text = render(conn)
    assert DOC.read_text(encoding="utf-8") == text, (
        "docs/ACCESS.md is out of date: run python scripts/access_doc.py"
    )
