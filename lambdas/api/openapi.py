"""The OpenAPI document GET /openapi.json serves: Powertools' own, with one fix-up.

Only the document uses the security scheme, so it is built here, when the document is first
asked for, and a cold start does not import Powertools' OpenAPI models for it.
"""

from __future__ import annotations

import json
from functools import lru_cache

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver


@lru_cache(maxsize=1)
def served_document(app: APIGatewayHttpResolver) -> str:
    """The resolver's document, generated once per cold start.

    Powertools documents a 422 for every validated route; this API answers invalid requests
    with 400 (lambdas/api/error_responses.py), so only the 422s a route declares remain.
    """
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, SecurityScheme

    security_schemes: dict[str, SecurityScheme] = {"bearerAuth": HTTPBearer(bearerFormat="JWT")}
    document = json.loads(app.get_openapi_json_schema(security_schemes=security_schemes))
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses", {})
            schema = responses.get("422", {}).get("content", {}).get("application/json", {})
            if schema.get("schema", {}).get("$ref", "").endswith("/HTTPValidationError"):
                del responses["422"]
    return json.dumps(document, indent=2)
