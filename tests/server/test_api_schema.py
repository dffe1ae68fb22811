"""schemathesis over the whole team API: whatever the OpenAPI document allows, the server
answers without a 5xx — as an admin (every route reachable) and without a token."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import Case

from loopline.store import Lineage
from tests._team_server import TeamServer


@pytest.mark.parametrize("authenticated", [True, False])
def test_no_server_errors_for_any_request_the_openapi_allows(
    team: TeamServer, authenticated: bool
) -> None:
    run = team.store.create_run("e", None, {}, {}, Lineage())
    team.store.log_metrics(run.id, [("auc", 0.9, 0, 0.0)])
    headers = {"Authorization": f"Bearer {team.token('root', 'admin')}"} if authenticated else {}
    schema = schemathesis.openapi.from_url(f"{team.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 70  # every store operation, artifacts, audit, DORA
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
        def no_5xx(case: Case) -> None:
            response = case.call(headers=headers)
            assert response.status_code < 500, (
                case.method,
                case.formatted_path,
                case.body,
                response.text[:500],
            )
            if response.status_code >= 400 and case.method != "HEAD":  # HEAD has no body
                assert "error" in response.json(), response.text[:300]
            if not authenticated and case.path != "/api/v1/health":
                assert response.status_code == 401

        no_5xx()
