"""What a cold start of the API leaves out: each is loaded by the first request that needs it."""

from __future__ import annotations

import json
import subprocess
import sys

from cdk.constants import REPO_ROOT

# module -> the request that loads it
LOADED_ON_DEMAND = {
    "boto3": "none: the API's clients are botocore's",
    "s3transfer": "none (boto3's)",
    "aws_lambda_powertools.utilities.idempotency": "a create with an Idempotency-Key",
    "aws_lambda_powertools.event_handler.openapi.models": "GET /openapi.json",
    "cryptography": "the first that signs playback URLs",
    "lambdas.pipeline.subtitles": "a caption change",
}


def test_importing_the_api_handler_leaves_out_what_only_some_requests_need() -> None:
    # Given a fresh interpreter, when it imports the handler as Lambda's init does
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, sys, lambdas.api.handler; print(json.dumps([*sys.modules]))",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = set(json.loads(completed.stdout.splitlines()[-1]))
    # Then none of these (nor their submodules) is loaded yet
    early = {
        module: why
        for module, why in LOADED_ON_DEMAND.items()
        if any(name == module or name.startswith(f"{module}.") for name in loaded)
    }
    assert early == {}
