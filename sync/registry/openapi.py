"""Write the served OpenAPI document to ``sync/registry/openapi.json`` (the copy kept in the repository).

Run ``python -m sync.registry.openapi`` after changing the API; a test checks the two are equal.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

DOCUMENT = Path(__file__).with_name("openapi.json")


def served_document() -> dict:
    from sync.registry.app import create_app
    from sync.registry.config import Settings
    from sync.registry.core import Registry, initialise
    from sync.registry.db import Database

    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{tmp}/openapi.db")
        initialise(db, 2026)
        document = create_app(Registry.open(Settings(db_url=db.url), db)).openapi()
        db.dispose()
    return document


def render(document: dict) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def main() -> int:
    DOCUMENT.write_text(render(served_document()), encoding="utf-8")
    print(f"wrote {DOCUMENT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
