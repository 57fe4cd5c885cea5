"""`make synth` as a fresh machine runs it: `python app.py`, real bundling, no credentials,
no Docker."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cdk import constants


@pytest.mark.slow
def test_python_app_py_synthesizes_offline_and_bundles_the_lambdas(tmp_path: Path) -> None:
    # Given no AWS credentials and a Docker that cannot run
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "CDK_")) and key != "PYTEST_CURRENT_TEST"
    }
    env.update(
        CDK_OUTDIR=str(tmp_path),
        CDK_DOCKER=str(tmp_path / "no-docker-here"),
        AWS_CONFIG_FILE=str(tmp_path / "no-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-credentials"),
        JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20",
    )
    env.pop("PYTEST_VERSION", None)
    # When the app runs as `make synth` runs it
    result = subprocess.run(
        [sys.executable, "app.py"],
        cwd=constants.REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=540,
        check=False,
    )
    # Then it succeeds (cdk-nag findings would fail it) ...
    assert result.returncode == 0, result.stderr[-4000:]
    assert (tmp_path / "StreamForge-dev.template.json").is_file()
    # ... and the zip bundle holds lambdas/ plus arm64 wheels for Python 3.12
    bundles = [d for d in tmp_path.glob("asset.*") if (d / "lambdas" / "__init__.py").is_file()]
    bundles = [d for d in bundles if (d / "pydantic_core").is_dir()]
    assert len(bundles) == 1, sorted(p.name for p in tmp_path.glob("asset.*"))
    shared_objects = list((bundles[0] / "pydantic_core").glob("*.so"))
    assert shared_objects and all("aarch64" in so.name for so in shared_objects)
    assert all("cpython-312" in so.name for so in shared_objects)
    assert not list((bundles[0] / "lambdas").rglob("__pycache__"))
