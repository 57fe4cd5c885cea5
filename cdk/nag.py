"""Acknowledging cdk-nag findings (cdk-nag 3 uses CDK's own `Validations` mechanism).

An acknowledgment covers the construct it is made on and everything below it, and only
the exact finding named: `AwsSolutions-IAM5[Resource::*]` does not cover
`AwsSolutions-IAM5[Action::s3:*]`.
"""

from __future__ import annotations

from collections.abc import Iterable

from aws_cdk import Acknowledgment, CfnElement, Stack, Validations
from constructs import Construct, IConstruct


def acknowledge(
    targets: IConstruct | Iterable[IConstruct],
    rule: str,
    reason: str,
    *,
    findings: Iterable[str] = (),
) -> None:
    """Acknowledges `rule` (or only its listed `findings`) on `targets`, with `reason`."""
    ids = [f"{rule}[{finding}]" for finding in findings] or [rule]
    constructs = [targets] if isinstance(targets, Construct) else list(targets)  # type: ignore[arg-type]
    for construct in constructs:
        Validations.of(construct).acknowledge(
            *(Acknowledgment(id=rule_id, reason=reason) for rule_id in ids)
        )


def logical_id(construct: IConstruct) -> str:
    """The CloudFormation logical id of an L2's resource, as cdk-nag names it in findings."""
    child = construct.node.default_child
    assert isinstance(child, CfnElement)
    return Stack.of(construct).get_logical_id(child)


def arn_finding(construct: IConstruct, suffix: str = "") -> str:
    """cdk-nag's name for `<resource ARN><suffix>` in an IAM5 finding."""
    return f"Resource::<{logical_id(construct)}.Arn>{suffix}"
