"""The checked-in spec is the app's spec, and no generated request makes the server fail."""

from __future__ import annotations

import json
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, given, settings

from kitlife.collector.api.openapi import render
from kitlife.protocol import CONTENT_TYPE
from tests.collector.api.conftest import Live

SPEC = Path(__file__).resolve().parents[3] / "docs" / "openapi.json"


@schemathesis.serializer(CONTENT_TYPE)
def _raw_batch(_ctx: object, value: object) -> bytes:
    """The batch body is opaque binary in the spec: send what was generated, as bytes."""
    if isinstance(value, bytes):
        return value
    return str(value).encode()


def test_checked_in_spec_matches_the_app() -> None:
    assert SPEC.read_text() == render(), "API changed: run scripts/openapi and commit the diff"


def test_served_spec_is_the_checked_in_one(live: Live) -> None:
    with live.client(live.servicedesk) as c:
        assert c.get("/openapi.json").json() == json.loads(SPEC.read_text())


def test_no_generated_request_gets_a_5xx(live: Live) -> None:
    """schemathesis over every operation, as admin (so requests get past auth), bounded."""
    live.enroll("pc-x")
    schema = schemathesis.openapi.from_dict(json.loads(SPEC.read_text()))
    headers = {"Authorization": f"Bearer {live.admin}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 9
    for operation in operations:

        @settings(
            max_examples=15,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case: schemathesis.Case) -> None:
            if case.path.endswith("/revoke"):
                return  # would revoke the fixture's own tokens' devices; covered elsewhere
            response = case.call(base_url=live.url, headers=headers)
            assert response.status_code < 500, (case.method, case.path, response.text[:200])

        check()
