"""Other deployment shapes: Spot, arm64 images, no signing key and no web build yet."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cdk import constants
from cdk.application import build_app


def _synth(tmp_path: Path, context: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The template's resources and the synth's warnings, without a web build."""
    app, stack = build_app(
        {
            "aws:cdk:bundling-stacks": [],
            "@aws-cdk/core:failSynthOnValidationErrors": False,
            **context,
        },
        outdir=str(tmp_path / "cdk.out"),
        web_dist_dir=tmp_path / "no-dist",
    )
    artifact = app.synth().get_stack_artifact(stack.artifact_id)
    warnings = " ".join(
        str(message.entry.data) for message in artifact.messages if message.level.name == "WARNING"
    )
    resources: dict[str, Any] = artifact.template["Resources"]
    return resources, warnings


def _of_type(resources: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    return [r for r in resources.values() if r["Type"] == resource_type]


def test_spot_and_missing_inputs_synthesize_with_warnings(tmp_path: Path) -> None:
    # Given context asking for Spot with the fallback and a small task, without a CDN key or
    # a web build
    resources, warnings = _synth(
        tmp_path,
        {
            "fargateSpot": "true",
            "spotFallback": "true",
            "fargateCpu": "1024",
            "fargateMemoryMib": "3072",
        },
    )
    # Then the shape follows the context ...
    (task,) = _of_type(resources, "AWS::ECS::TaskDefinition")
    assert (task["Properties"]["Cpu"], task["Properties"]["Memory"]) == ("1024", "3072")
    (strategy,) = _of_type(resources, "AWS::ECS::ClusterCapacityProviderAssociations")
    assert strategy["Properties"]["DefaultCapacityProviderStrategy"][0]["CapacityProvider"] == (
        "FARGATE_SPOT"
    )
    # ... synth says what is missing ...
    assert "cdnPublicKeyFile" in warnings
    assert "no index.html" in warnings
    # ... and the workflow's RunTask names no launch type but asks for Spot, with the fallback
    assert '"LaunchType"' not in constants.STATE_MACHINE_ASL.read_text()
    (machine,) = _of_type(resources, "AWS::StepFunctions::StateMachine")
    substitutions = machine["Properties"]["DefinitionSubstitutions"]
    assert (substitutions["CapacityProvider"], substitutions["SpotFallback"]) == (
        "FARGATE_SPOT",
        "true",
    )


def test_arm64_builds_both_images_for_arm64(tmp_path: Path) -> None:
    resources, _ = _synth(tmp_path, {"architecture": "arm64"})
    (task,) = _of_type(resources, "AWS::ECS::TaskDefinition")
    assert task["Properties"]["RuntimePlatform"]["CpuArchitecture"] == "ARM64"
    # the probe and Finalise, which run the same FFmpeg image
    images = [
        r
        for r in _of_type(resources, "AWS::Lambda::Function")
        if r["Properties"].get("PackageType") == "Image"
    ]
    assert len(images) == 2
    assert all(image["Properties"]["Architectures"] == ["arm64"] for image in images)
