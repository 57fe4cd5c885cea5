"""One synthesis of the real stack per session: bundling skipped, a generated signing key,
a stand-in web build, and validation findings written to the report instead of raised."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

# jsii prints a banner on Node releases past their end of life; the tests need no reminder.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk.assertions import Template

from cdk.application import build_app
from cdk.stack import StreamForgeStack

LOCAL_ORIGIN = "http://localhost:5173"

Resources = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class Synthesized:
    stack: StreamForgeStack
    template: Template
    template_json: dict[str, Any]
    outdir: Path
    template_path: Path
    validation_report: dict[str, Any]
    public_key_pem: str

    @property
    def resources(self) -> Resources:
        resources: Resources = self.template_json["Resources"]
        return resources

    def of_type(self, resource_type: str) -> Resources:
        return {
            logical_id: resource
            for logical_id, resource in self.resources.items()
            if resource["Type"] == resource_type
        }

    def one(self, resource_type: str) -> tuple[str, dict[str, Any]]:
        found = self.of_type(resource_type)
        assert len(found) == 1, f"expected one {resource_type}, found {sorted(found)}"
        return next(iter(found.items()))


def generate_public_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synthesized]:
    web_dist = tmp_path_factory.mktemp("web-dist")
    (web_dist / "index.html").write_text("<!doctype html><title>StreamForge</title>")
    outdir = tmp_path_factory.mktemp("cdk.out")
    public_key_pem = generate_public_key_pem()
    app, stack = build_app(
        {
            "aws:cdk:bundling-stacks": [],  # no pip install per test run
            # Findings go to validation-report.json, which the tests read.
            "@aws-cdk/core:failSynthOnValidationErrors": False,
            "environmentName": "test",
            "cdnPublicKeyPem": public_key_pem,
            "requireCdnKey": True,
            "allowedOrigins": LOCAL_ORIGIN,
        },
        outdir=str(outdir),
        web_dist_dir=web_dist,
    )
    assembly = app.synth()
    artifact = assembly.get_stack_artifact(stack.artifact_id)
    template_json: dict[str, Any] = artifact.template
    yield Synthesized(
        stack=stack,
        template=Template.from_json(template_json),
        template_json=template_json,
        outdir=outdir,
        template_path=Path(artifact.template_full_path),
        validation_report=json.loads((outdir / "validation-report.json").read_text()),
        public_key_pem=public_key_pem,
    )
