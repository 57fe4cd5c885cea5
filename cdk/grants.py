"""Least-privilege grants spelled out, and the cdk-nag findings that go with them."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct, IConstruct

from cdk import constants
from cdk.nag import acknowledge


def allow(principal: iam.IGrantable, actions: Sequence[str], resources: Sequence[str]) -> None:
    """Exactly these actions on exactly these resources (grant_read would give `s3:Get*`)."""
    iam.Grant.add_to_principal(
        grantee=principal, actions=list(actions), resource_arns=list(resources)
    )


def allow_put_events(principal: iam.IGrantable, scope: Construct) -> None:
    """VideoReady / VideoFailed events on the default bus, with StreamForge's source only."""
    bus = Stack.of(scope).format_arn(
        service="events", resource="event-bus", resource_name="default"
    )
    principal.grant_principal.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["events:PutEvents"],
            resources=[bus],
            conditions={"StringEquals": {"events:source": constants.EVENT_SOURCE}},
        )
    )


def acknowledge_xray(targets: IConstruct | Sequence[IConstruct]) -> None:
    acknowledge(
        targets,
        "AwsSolutions-IAM5",
        "X-Ray trace segments and CloudWatch Logs vended log delivery have no "
        "resource-level permissions.",
        findings=["Resource::*"],
    )


def acknowledge_function(function: lambda_.Function, per_video_resources: Sequence[str]) -> None:
    """What our functions are flagged for: X-Ray's `*`, per-video grants, Python 3.12."""
    targets: list[IConstruct] = [function]
    if function.role is not None:
        targets.append(function.role)
    acknowledge_xray(targets)
    if per_video_resources:
        acknowledge(
            targets,
            "AwsSolutions-IAM5",
            "Objects are keyed by video id, and items are reached through the table's "
            "indexes; the function serves any video.",
            findings=per_video_resources,
        )
    if isinstance(function, lambda_.DockerImageFunction):
        return
    acknowledge(
        function,
        "AwsSolutions-L1",
        "Python 3.12 is the runtime the bundle's wheels are resolved for and the probe "
        "image runs; they move together.",
    )
