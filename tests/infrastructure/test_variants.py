"""A second deployment shape: Spot, arm64 images, no signing key and no web build yet."""

from __future__ import annotations

from pathlib import Path

from cdk import constants
from cdk.application import build_app


def test_spot_arm64_and_missing_inputs_synthesize_with_warnings(tmp_path: Path) -> None:
    # Given context asking for Spot and arm64, without a CDN key or a web build
    app, stack = build_app(
        {
            "aws:cdk:bundling-stacks": [],
            "@aws-cdk/core:failSynthOnValidationErrors": False,
            "fargateSpot": "true",
            "architecture": "arm64",
            "fargateCpu": "1024",
            "fargateMemoryMib": "3072",
        },
        outdir=str(tmp_path / "cdk.out"),
        web_dist_dir=tmp_path / "no-dist",
    )
    # When it is synthesized
    artifact = app.synth().get_stack_artifact(stack.artifact_id)
    resources = artifact.template["Resources"]
    warnings = " ".join(
        str(message.entry.data) for message in artifact.messages if message.level.name == "WARNING"
    )
    # Then the shape follows the context ...
    (task,) = [r for r in resources.values() if r["Type"] == "AWS::ECS::TaskDefinition"]
    assert task["Properties"]["RuntimePlatform"]["CpuArchitecture"] == "ARM64"
    assert (task["Properties"]["Cpu"], task["Properties"]["Memory"]) == ("1024", "3072")
    (probe,) = [
        r
        for r in resources.values()
        if r["Type"] == "AWS::Lambda::Function" and r["Properties"].get("PackageType") == "Image"
    ]
    assert probe["Properties"]["Architectures"] == ["arm64"]
    (strategy,) = [
        r
        for r in resources.values()
        if r["Type"] == "AWS::ECS::ClusterCapacityProviderAssociations"
    ]
    assert strategy["Properties"]["DefaultCapacityProviderStrategy"][0]["CapacityProvider"] == (
        "FARGATE_SPOT"
    )
    # ... and synth says what is missing or ineffective
    assert "cdnPublicKeyPem" in warnings
    assert "no index.html" in warnings
    # and the workflow's RunTask names no launch type, so the cluster's Spot strategy applies
    assert '"LaunchType"' not in constants.STATE_MACHINE_ASL.read_text()
