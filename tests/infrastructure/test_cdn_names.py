"""CloudFront's signing key and names: a new key is a new resource, and names are regional."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
from aws_cdk.assertions import Template

from cdk.delivery import Delivery
from cdk.settings import Settings
from cdk.storage import Storage
from tests.infrastructure.conftest import Synthesized, generate_public_key_pem


def _public_keys(pem: str) -> dict[str, Any]:
    """The public keys of the storage and delivery constructs alone, in a stack of their own."""
    stack = cdk.Stack(cdk.App(), "StreamForge-test")
    settings = Settings.model_validate({"cdnPublicKeyPem": pem})
    storage = Storage(stack, "Storage", settings=settings)
    Delivery(stack, "Delivery", settings=settings, storage=storage)
    return {
        logical: resource
        for logical, resource in Template.from_stack(stack).to_json()["Resources"].items()
        if resource["Type"] == "AWS::CloudFront::PublicKey"
    }


def test_a_new_public_key_is_a_new_resource_with_a_name_of_its_own() -> None:
    # CloudFront cannot change a key in place, so replacing the PEM must replace the
    # resource; the old one lives until the update's cleanup, so the names differ too.
    (first_id, first), (second_id, second) = (
        *_public_keys(generate_public_key_pem()).items(),
        *_public_keys(generate_public_key_pem()).items(),
    )
    assert first_id != second_id
    names = [json.dumps(key["Properties"]["PublicKeyConfig"]["Name"]) for key in (first, second)]
    assert names[0] != names[1]


def test_cloudfront_names_carry_the_stack_and_the_region(synthesized: Synthesized) -> None:
    # CloudFront names are global to the account: a second region must not collide.
    named = {
        "AWS::CloudFront::PublicKey": "PublicKeyConfig",
        "AWS::CloudFront::KeyGroup": "KeyGroupConfig",
        "AWS::CloudFront::ResponseHeadersPolicy": "ResponseHeadersPolicyConfig",
    }
    stack_name = synthesized.stack.stack_name
    for resource_type, config in named.items():
        resources = synthesized.of_type(resource_type)
        assert resources, resource_type
        for logical, resource in resources.items():
            name = resource["Properties"][config]["Name"]
            delimiter, parts = name["Fn::Join"]
            assert delimiter == "" and len(parts) == 3, (logical, name)
            assert parts[:2] == [f"{stack_name}-", {"Ref": "AWS::Region"}], (logical, name)
            assert parts[2].startswith("-"), (logical, name)
