"""The handler paths CDK deploys are the ones offline runs, and each names a function."""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys

import pytest

from cdk import constants
from local.resources import LAMBDA_HANDLERS


def test_the_probe_image_runs_the_probe_handler_by_default() -> None:
    dockerfile = (constants.REPO_ROOT / constants.PROBE_DOCKERFILE).read_text()
    cmd = re.search(r"^CMD (\[.*\])$", dockerfile, re.MULTILINE)
    assert cmd is not None
    assert json.loads(cmd.group(1)) == [constants.PROBE_HANDLER]


@pytest.mark.parametrize("handler", sorted(LAMBDA_HANDLERS.values()))
def test_every_handler_path_names_a_callable(handler: str) -> None:
    module, _, name = handler.rpartition(".")
    assert callable(getattr(importlib.import_module(module), name))


PIPELINE_HANDLERS = sorted(h for h in LAMBDA_HANDLERS.values() if h.startswith("lambdas.pipeline"))


@pytest.mark.parametrize("handler", PIPELINE_HANDLERS)
def test_a_pipeline_handlers_cold_import_loads_neither_boto3_nor_the_tracer(handler: str) -> None:
    # boto3 (and the transfer manager it brings) and the X-Ray SDK are cold-start time
    # that importing a pipeline function does not need
    module = handler.rpartition(".")[0]
    unwanted = ["boto3", "s3transfer", "aws_xray_sdk"]
    code = f"import sys, {module}; print([m for m in {unwanted!r} if m in sys.modules])"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()

    assert loaded == "[]"
