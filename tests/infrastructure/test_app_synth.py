"""The documented deploy command, run as a fresh machine would run it with `synth` in place
of `deploy`: the pinned CDK CLI, real bundling, no AWS credentials, no Docker."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from cdk import constants
from tests.infrastructure.conftest import generate_public_key_pem

DEPLOY_DOC = constants.REPO_ROOT / "docs" / "deploy.md"
CLI_PACKAGE = constants.REPO_ROOT / "node_modules" / "aws-cdk"
FENCED_BASH = re.compile(r"```bash\n(.*?)```", re.DOTALL)


def documented_deploy_command() -> str:
    """The one `npx cdk deploy` command of docs/deploy.md, its continuation lines joined."""
    commands = [
        block.replace("\\\n", " ")
        for block in FENCED_BASH.findall(DEPLOY_DOC.read_text())
        if "npx cdk deploy" in block
    ]
    assert len(commands) == 1, commands
    return " ".join(commands[0].split())


def _offline_env(home: Path, tmp_path: Path) -> dict[str, str]:
    """This machine's environment without AWS credentials or Docker, and a home of its own
    (pip keeps its real configuration and cache)."""
    real_home = Path.home()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "CDK_", "PYTEST_"))
    }
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=os.environ.get("XDG_CONFIG_HOME", str(real_home / ".config")),
        XDG_CACHE_HOME=os.environ.get("XDG_CACHE_HOME", str(real_home / ".cache")),
        # what `source .venv/bin/activate` does: cdk.json runs `python3 app.py`
        PATH=f"{constants.REPO_ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}",
        AWS_CONFIG_FILE=str(tmp_path / "no-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        CDK_DOCKER=str(tmp_path / "no-docker-here"),
        JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20",
    )
    return env


def test_the_documented_command_passes_the_key_as_a_file_outside_the_repository() -> None:
    command = documented_deploy_command()
    assert "-c requireCdnKey=true" in command
    assert '-c cdnPublicKeyFile="$HOME/.streamforge/cdn_public.pem"' in command
    assert "cdnPublicKeyPem" not in command  # the CLI would cut it at its first newline


@pytest.mark.slow
def test_the_documented_deploy_command_synthesizes_through_the_pinned_cli(
    tmp_path: Path,
) -> None:
    # Given the key pair where docs/deploy.md makes it, and no AWS credentials
    home = tmp_path / "home"
    (home / ".streamforge").mkdir(parents=True)
    public_key_pem = generate_public_key_pem()
    (home / ".streamforge" / "cdn_public.pem").write_text(public_key_pem)
    outdir = tmp_path / "cdk.out"
    command = documented_deploy_command().replace("npx cdk deploy", "npx cdk synth")
    # When the documented command runs with synth in place of deploy
    result = subprocess.run(
        ["bash", "-c", f"{command} --output {outdir}"],
        cwd=constants.REPO_ROOT,
        env=_offline_env(home, tmp_path),
        capture_output=True,
        text=True,
        timeout=540,
        check=False,
    )
    # Then it succeeds (cdk-nag findings would fail it), with the key in the template ...
    assert result.returncode == 0, result.stderr[-4000:]
    template = json.loads((outdir / "StreamForge-dev.template.json").read_text())
    keys = [
        resource["Properties"]["PublicKeyConfig"]["EncodedKey"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::CloudFront::PublicKey"
    ]
    assert keys == [public_key_pem]
    # ... and the zip bundle holds lambdas/ plus arm64 wheels for Python 3.12
    bundles = [d for d in outdir.glob("asset.*") if (d / "lambdas" / "__init__.py").is_file()]
    bundles = [d for d in bundles if (d / "pydantic_core").is_dir()]
    assert len(bundles) == 1, sorted(p.name for p in outdir.glob("asset.*"))
    shared_objects = list((bundles[0] / "pydantic_core").glob("*.so"))
    assert shared_objects and all("aarch64" in so.name for so in shared_objects)
    assert all("cpython-312" in so.name for so in shared_objects)
    assert not list((bundles[0] / "lambdas").rglob("__pycache__"))


def test_the_cli_is_pinned_exactly_and_installed_at_that_version() -> None:
    declared = json.loads((constants.REPO_ROOT / "package.json").read_text())["dependencies"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", declared["aws-cdk"]), declared
    installed = json.loads((CLI_PACKAGE / "package.json").read_text())["version"]
    assert installed == declared["aws-cdk"], "run npm ci (make setup does)"


def test_the_pinned_cli_builds_images_without_attestations() -> None:
    # Lambda refuses an image index, which BuildKit's default provenance attestation makes
    # of the probe image; the CLI's asset builder turns the default off for every build.
    bundle = (CLI_PACKAGE / "lib" / "index.js").read_text()
    assert 'BUILDX_NO_DEFAULT_ATTESTATIONS: "1"' in bundle


def test_synth_makes_no_network_call_for_notices_or_telemetry() -> None:
    cdk_json = json.loads((constants.REPO_ROOT / "cdk.json").read_text())
    assert cdk_json["notices"] is False
    assert cdk_json["context"]["cli-telemetry"] is False


def test_the_deploy_only_requirements_pin_pydantic_as_the_lambdas_do() -> None:
    def pins(path: Path) -> dict[str, str]:
        found = re.findall(r"(?m)^([\w.-]+)==([^\s#]+)", path.read_text())
        return dict(found)

    deploy = pins(constants.REPO_ROOT / "cdk" / "requirements.txt")
    lambdas = pins(constants.LAMBDAS_DIR / "requirements.txt")
    assert deploy["pydantic"] == lambdas["pydantic"]
