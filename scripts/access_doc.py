"""Write docs/ACCESS.md from the access model (api/db/access.py) and the catalog of a
freshly migrated database.

    python scripts/access_doc.py                 # a scratch embedded PostgreSQL, then gone
    python scripts/access_doc.py --database-url postgresql://...   # an already migrated one
    python scripts/access_doc.py --check         # exit 1 if docs/ACCESS.md is out of date
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from api.db.access import render
from api.db.embedded import EmbeddedPostgres
from api.db.migrate import migrate
from api.db.session import connect

DOC = Path(__file__).resolve().parents[1] / "docs" / "ACCESS.md"


def generate(database_url: str | None) -> str:
    if database_url:
        with connect(database_url) as conn:
            conn.autocommit = True
            return render(conn)
    home = Path(tempfile.mkdtemp(prefix="knitter-access-"))
    server = EmbeddedPostgres(home / "pgdata")
    try:
        with connect(server.start()) as conn:
            conn.autocommit = True
            migrate(conn)
            return render(conn)
    finally:
        server.stop()
        shutil.rmtree(home, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a migrated database (default: a scratch one)")
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args()
    text = generate(args.database_url)
    if args.check:
        if DOC.read_text(encoding="utf-8") != text:
            print(f"{DOC} is out of date: run python scripts/access_doc.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(text, encoding="utf-8")
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
