"""The handler paths CDK deploys are the ones offline runs, and each names a function."""

from __future__ import annotations

import importlib
import json
import re

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
