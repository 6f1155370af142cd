"""Write the API's OpenAPI schema to frontend/openapi.json (no server or database needed).

The frontend's typed client (frontend/src/services/schema.d.ts) is generated from this file by
`npm run gen:api`; `npm run check:api` fails when either file is stale.

    python scripts/gen_openapi.py [output path]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.main import create_app  # noqa: E402
from app.platform.config import Settings  # noqa: E402


def schema() -> dict[str, object]:
    # Placeholder URLs: create_app only records settings; nothing connects until the lifespan runs.
    settings = Settings(
        database_url="postgresql://x@localhost/x",
        redis_url="redis://localhost",
        jwt_secret="x" * 32,
        frontend_dist=ROOT / "frontend" / "nonexistent-dist",
        _env_file=None,  # type: ignore[call-arg]
    )
    return create_app(settings).openapi()


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else ROOT / "frontend" / "openapi.json"
    text = json.dumps(schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
