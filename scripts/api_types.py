"""The web app's API types, generated from the OpenAPI document the API serves.

`python -m scripts.api_types` rewrites web/src/generated/api-schema.ts;
tests/integration/test_openapi_types.py fails when that file is stale. The document comes from
the API's own handler (GET /openapi.json, no stack needed), the types from openapi-typescript
as pinned in web/package.json.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
WEB_DIR = REPO_ROOT / "web"
GENERATED = WEB_DIR / "src" / "generated" / "api-schema.ts"
GENERATOR = WEB_DIR / "node_modules" / ".bin" / "openapi-typescript"


def _openapi_request() -> dict[str, Any]:
    """An HTTP API (payload 2.0) event for GET /openapi.json, the public route."""
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/openapi.json",
        "rawQueryString": "",
        "headers": {"host": "api.local"},
        "isBase64Encoded": False,
        "requestContext": {
            "http": {
                "method": "GET",
                "path": "/openapi.json",
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "api-types",
            },
            "requestId": "api-types",
            "routeKey": "$default",
            "stage": "$default",
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": "api.local",
            "domainPrefix": "api",
            "time": "01/Jan/2026:00:00:00 +0000",
            "timeEpoch": 0,
        },
    }


def openapi_document() -> str:
    """The document exactly as GET /openapi.json serves it."""
    from lambdas.api.handler import lambda_handler  # imported late: only this path needs it
    from local.engine_hooks import LocalLambdaContext

    context = LocalLambdaContext("api-types", "arn:aws:lambda:us-east-1:0:function:api-types")
    response = lambda_handler(_openapi_request(), context)
    if response["statusCode"] != 200:
        raise RuntimeError(f"GET /openapi.json answered {response['statusCode']}")
    body: str = response["body"]
    json.loads(body)  # a document, not an error page
    return body


def generate(document: str) -> str:
    """The TypeScript openapi-typescript writes for `document`."""
    if not GENERATOR.is_file():
        raise RuntimeError(f"{GENERATOR} is missing: run `npm ci` in web/")
    with tempfile.TemporaryDirectory() as work:
        source, target = Path(work) / "openapi.json", Path(work) / "api-schema.ts"
        source.write_text(document)
        subprocess.run(
            [str(GENERATOR), str(source), "--output", str(target)],
            cwd=WEB_DIR,
            check=True,
            capture_output=True,
        )
        return target.read_text()


def main() -> None:
    GENERATED.parent.mkdir(parents=True, exist_ok=True)
    GENERATED.write_text(generate(openapi_document()))
    print(f"wrote {GENERATED.relative_to(REPO_ROOT)}")


if __name__ == "__main__":
    main()
