"""Each function runs offline with the variables CDK gives that very function: the same
names, none more (besides the few the emulators need) and none fewer."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import pytest

from lambdas.core.settings import ApiSettings, Settings
from local.config import OfflineConfig
from local.resources import (
    FUNCTION_SERVICES,
    OFFLINE_ONLY_VARIABLES,
    Deployed,
    api_environment,
    function_environments,
)
from tests.infrastructure.conftest import Synthesized

# The API's values that exist once the offline stack is deployed (names matter here)
DEPLOYED = Deployed(
    **{f.name: f"deployed-{f.name}" for f in fields(Deployed) if f.name != "function_arns"},
    function_arns={},
)


def deployed_variables(synthesized: Synthesized, service: str) -> dict[str, Any]:
    for function in synthesized.of_type("AWS::Lambda::Function").values():
        variables: dict[str, Any] = (
            function["Properties"].get("Environment", {}).get("Variables", {})
        )
        if variables.get("POWERTOOLS_SERVICE_NAME") == service:
            return variables
    raise AssertionError(f"no function for service {service}")


def offline_variables(attribute: str) -> dict[str, str]:
    variables = function_environments(OfflineConfig())[attribute]
    if attribute == "api_function":
        return {**variables, **api_environment(DEPLOYED, "cdn.local:1")}
    return variables


@pytest.mark.parametrize("attribute", sorted(FUNCTION_SERVICES))
def test_offline_functions_get_exactly_the_variables_cdk_sets(
    synthesized: Synthesized, attribute: str
) -> None:
    deployed = set(deployed_variables(synthesized, FUNCTION_SERVICES[attribute]))
    offline = set(offline_variables(attribute))

    assert offline - OFFLINE_ONLY_VARIABLES == deployed


@pytest.mark.parametrize("attribute", sorted(FUNCTION_SERVICES))
def test_each_deployed_function_has_every_setting_it_requires(
    synthesized: Synthesized, attribute: str
) -> None:
    """Its settings validate from its own variables alone (values: the offline ones, since
    the template's are references)."""
    deployed = deployed_variables(synthesized, FUNCTION_SERVICES[attribute])
    offline = offline_variables(attribute)
    values = {name: offline.get(name, "x") for name in deployed}
    model = ApiSettings if attribute == "api_function" else Settings
    model.from_environment(values)
