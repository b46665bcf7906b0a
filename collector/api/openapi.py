"""The collector's OpenAPI spec as checked into docs/openapi.json.

``scripts/openapi`` writes it; a test fails when the app and the file differ,
so API changes show up in review as a diff of that file.
"""

from __future__ import annotations

import json
from typing import Any

from kitlife.collector.api.app import create_app
from kitlife.collector.runtime.settings import Settings


def spec() -> dict[str, Any]:
    # No database is opened: building the spec needs only the routes.
    result: dict[str, Any] = create_app(Settings(db_url="sqlite://")).openapi()
    return result


def render() -> str:
    return json.dumps(spec(), indent=2, sort_keys=True) + "\n"
