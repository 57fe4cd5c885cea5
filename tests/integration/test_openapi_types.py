"""The web app's API types are generated from the document the API serves, and kept fresh."""

from __future__ import annotations

import json

from scripts.api_types import GENERATED, REPO_ROOT, generate, openapi_document


def test_the_generated_api_types_match_the_openapi_document_the_api_serves() -> None:
    # Given the document GET /openapi.json answers with
    document = openapi_document()
    assert "RenditionBody" in json.loads(document)["components"]["schemas"]

    # When openapi-typescript renders it, then it is exactly the file the web app compiles
    fresh = generate(document)
    assert GENERATED.read_text() == fresh, (
        f"{GENERATED.relative_to(REPO_ROOT)} is stale: run `.venv/bin/python -m scripts.api_types`"
    )
