"""The HTTP API: one Powertools resolver composed of a router per resource.

Routes under /videos are the signed-in owner's (the JWT authorizer has checked the token);
/catalog and /openapi.json are public. The routes live in lambdas/api/routers/, their
dependencies (adapters, caller) in lambdas/api/dependencies.py, and the mapping of errors to
responses in lambdas/api/error_responses.py.
"""

from __future__ import annotations

from http import HTTPStatus

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types

from lambdas.api.bodies import read_json_bodies_only
from lambdas.api.error_responses import map_errors_to_responses
from lambdas.api.openapi import served_document
from lambdas.api.routers import captions, catalog, uploads, videos

app = APIGatewayHttpResolver(enable_validation=True)
read_json_bodies_only(app)
app.configure_openapi(
    title="StreamForge API",
    version="1.0.0",
    description="Upload videos, follow their processing, and play them back through signed, "
    "short-lived CDN URLs. Routes under /videos need a bearer token (a Cognito ID token).",
)
for resource in (videos, uploads, captions, catalog):
    app.include_router(resource.router)
map_errors_to_responses(app)


@app.get("/openapi.json", include_in_schema=False)
def openapi_document() -> Response[str]:
    return Response(
        status_code=HTTPStatus.OK,
        content_type=content_types.APPLICATION_JSON,
        body=served_document(app),
        headers={"Cache-Control": "max-age=300"},
    )
