"""Schema-driven fuzzing: schemathesis reads the OpenAPI document the API serves and sends
valid (positive) and invalid (negative) requests to every operation, signed in. No answer
may be a 5xx, and every answer must match what the document says.

Two of schemathesis' phases run: fuzzing (hypothesis, derandomized so a run is repeatable,
a bounded number of examples per operation) and coverage (every boundary and request-shape
case the document implies, among them a multipart/form-data without a boundary, a
Content-Type the API does not take, and methods no route has).
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.generation.meta import CONTENT_TYPE_PROBES, CoverageScenario, coverage_scenario
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
MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]  # every mode schemathesis has


@pytest.fixture(scope="module")
def api_schema(offline_stack: OfflineStack) -> Any:
    document = requests.get(f"{offline_stack.api_url}/openapi.json", timeout=30).json()
    return schemathesis.openapi.from_dict(document)


def _operations(api_schema: Any) -> list[Any]:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 12
    return operations


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_no_server_errors_and_answers_match_the_document(
    offline_stack: OfflineStack, api_schema: Any, mode: GenerationMode
) -> None:
    headers = {"Authorization": f"Bearer {offline_stack.token('fuzzer')}"}

    for operation in _operations(api_schema):

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


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_coverage_cases_malformed_content_types_and_unrouted_methods_get_no_5xx(
    offline_stack: OfflineStack, api_schema: Any, mode: GenerationMode
) -> None:
    headers = {"Authorization": f"Bearer {offline_stack.token('coverage')}"}
    probed: dict[CoverageScenario, int] = {}

    for operation in _operations(api_schema):
        generation = api_schema.config.generation_for(operation=operation, phase="coverage")
        for case in api_schema.iter_coverage_cases(
            operation, generation_modes=[mode], generation_config=generation
        ):
            response = case.call(base_url=offline_stack.api_url, headers=headers, timeout=30)
            case.validate_response(response, checks=(not_a_server_error,))
            scenario = coverage_scenario(case)
            label = f"{case.method} {case.formatted_path} ({scenario})"
            if scenario in CONTENT_TYPE_PROBES and operation.body:
                # Then a body the API does not read is refused in the API's error shape
                assert response.status_code == 415, label
                assert response.json()["code"] == "UNSUPPORTED_MEDIA_TYPE", label
            elif scenario == CoverageScenario.UNSPECIFIED_HTTP_METHOD and case.method != "OPTIONS":
                # Then a method no route serves is a 404, from the gateway or the function
                assert response.status_code == 404, label
            if scenario is not None:
                probed[scenario] = probed.get(scenario, 0) + 1

    if mode == GenerationMode.NEGATIVE:
        assert probed.get(CoverageScenario.MALFORMED_CONTENT_TYPE, 0) >= 4
        assert probed.get(CoverageScenario.UNSUPPORTED_CONTENT_TYPE, 0) >= 4
        assert probed.get(CoverageScenario.UNSPECIFIED_HTTP_METHOD, 0) >= 20
