"""Schema-driven fuzzing: schemathesis reads the OpenAPI document the API serves and sends
valid (positive) and invalid (negative) requests to every operation, signed in. No answer
may be a 5xx, and every answer must match what the document says.

The examples are derandomized, so a run is repeatable (and CI stable); a bounded number per
operation keeps the run short.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from local.stack import OfflineStack

EXAMPLES_PER_OPERATION = 20
CHECKS = (
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
)


@pytest.fixture(scope="module")
def api_schema(offline_stack: OfflineStack) -> Any:
    document = requests.get(f"{offline_stack.api_url}/openapi.json", timeout=30).json()
    return schemathesis.openapi.from_dict(document)


@pytest.mark.slow
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_server_errors_and_answers_match_the_document(
    offline_stack: OfflineStack, api_schema: Any, mode: GenerationMode
) -> None:
    headers = {"Authorization": f"Bearer {offline_stack.token('fuzzer')}"}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 12

    for operation in operations:

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def fuzz(case: Any) -> None:
            response = case.call(base_url=offline_stack.api_url, headers=headers, timeout=30)
            case.validate_response(response, checks=CHECKS)

        fuzz()
