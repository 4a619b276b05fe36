"""Property-based requests generated from the API's own OpenAPI schema (schemathesis):
whatever comes in, the API answers without a server error."""

from __future__ import annotations

from typing import Any

import pytest
import respx
import schemathesis
from hypothesis import HealthCheck, given, settings

from api.accounts.users import caller_for
from api.db.session import Connection
from api.http.app import create_app
from tests.test_api import auth, make_settings


def test_no_generated_request_gets_a_server_error(db_url: str, conn: Connection) -> None:
    app = create_app(make_settings(db_url))
    services = app.state.services
    services.open()  # what the lifespan does; schemathesis calls the app without it
    headers = auth(caller_for(conn, "fuzz@example.com", create=True))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) >= 8
    failures: list[str] = []
    try:
        # Generated import URLs must not reach the network: every outgoing request is
        # refused (and so becomes a failed item of its job).
        with respx.mock(assert_all_mocked=True, assert_all_called=False):
            for operation in operations:

                @given(case=operation.as_strategy())
                @settings(
                    max_examples=25,
                    deadline=None,
                    database=None,
                    derandomize=True,  # the same examples on every run: CI is reproducible
                    suppress_health_check=list(HealthCheck),
                )
                def check(case: Any) -> None:
                    # Imports run (and embed) before the test transport returns.
                    response = case.call(headers=headers, timeout=120)
                    if response.status_code >= 500:
                        failures.append(
                            f"{case.method} {case.formatted_path}: "
                            f"{response.status_code} {response.text[:300]}"
                        )

                check()
    finally:
        services.close()
    if failures:
        pytest.fail("\n".join(failures[:10]))
