"""schemathesis against the live server over a real socket: generated requests from the
server's own /openapi.json, no 5xx, and every response conforms to the published schema
(status code documented, content type, body schema, headers). At least 1,000 requests.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from fugu.routing.priority import PriorityRouter
from fugu.serving.app import ServeConfig, create_app
from fugu.serving.worker_server import running
from tests.serve_fixtures import ScriptedPool

KEY = "fuzz-key"
MIN_REQUESTS = 1000
CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance, checks.response_headers_conformance]


# Generating a chat/responses body costs ~0.2 s of hypothesis time on a busy 2-core box, a GET
# almost nothing: the split keeps the test near a minute while the POST bodies get 400 cases.
EXAMPLES = {"POST": 200, "GET": 320}


@pytest.fixture(scope="module")
def live_schema():
    pool = ScriptedPool({"w0": "4", "w1": "four"})
    app = create_app(PriorityRouter(["w0", "w1"]), pool, ServeConfig(api_key=KEY, max_concurrency=1024))
    with running(app) as url:
        yield schemathesis.openapi.from_url(f"{url}/openapi.json")


@pytest.mark.slow
def test_generated_requests_get_no_5xx_and_conform(live_schema):
    """Each operation's strategy driven by hypothesis directly (schemathesis' pytest plugin
    does not load under this pytest); failures raise with schemathesis' own report."""
    sent: list[int] = []
    operations = [result.ok() for result in live_schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/v1/chat/completions", "/v1/responses", "/v1/models"}
    for operation in operations:
        examples = EXAMPLES[operation.method.upper()]

        @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def run(case) -> None:
            response = case.call_and_validate(headers={"Authorization": f"Bearer {KEY}"}, checks=CHECKS, timeout=10)
            sent.append(response.status_code)

        run()
    print(f"schemathesis: {len(sent)} requests, statuses {sorted(set(sent))}")
    assert len(sent) >= MIN_REQUESTS, f"only {len(sent)} generated requests"
    assert not [status for status in sent if status >= 500]
