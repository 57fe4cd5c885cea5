"""What every synth must pass: cdk-nag's AwsSolutions pack and cfn-lint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_sqs as sqs
from cfnlint.api import lint_file  # type: ignore[import-untyped]

from cdk.application import apply_checks
from tests.infrastructure.conftest import Synthesized


def _violations(synthesized: Synthesized, plugin: str) -> list[dict[str, Any]]:
    return [
        {
            "rule": violation["ruleName"],
            "severity": violation["severity"],
            "at": [c["constructPath"] for c in violation["violatingConstructs"]],
        }
        for report in synthesized.validation_report["pluginReports"]
        if report["pluginName"] == plugin
        for violation in report["violations"]
    ]


def test_cdk_nag_aws_solutions_reports_nothing_unacknowledged(synthesized: Synthesized) -> None:
    assert _violations(synthesized, "AwsSolutions") == []


def test_the_checks_do_catch_a_finding(tmp_path: Path) -> None:
    # Given an app checked the way build_app checks ours, holding a queue without TLS
    app = cdk.App(
        outdir=str(tmp_path),
        context={"@aws-cdk/core:failSynthOnValidationErrors": False},
    )
    sqs.Queue(cdk.Stack(app, "Bad"), "Queue", enforce_ssl=False)
    apply_checks(app)
    # When it is synthesized
    app.synth()
    # Then the report names the finding
    report = json.loads((tmp_path / "validation-report.json").read_text())
    rules = {
        violation["ruleName"]
        for plugin in report["pluginReports"]
        if plugin["pluginName"] == "AwsSolutions"
        for violation in plugin["violations"]
    }
    assert "AwsSolutions-SQS4" in rules


def test_no_validation_errors_of_any_kind(synthesized: Synthesized) -> None:
    errors = [
        violation
        for report in synthesized.validation_report["pluginReports"]
        for violation in report["violations"]
        if violation["severity"] == "error"
    ]
    assert errors == []


def test_cfn_lint_finds_no_errors(synthesized: Synthesized) -> None:
    matches = lint_file(synthesized.template_path)
    errors = [f"{m.rule.id} {m.message} ({m.path})" for m in matches if m.rule.id.startswith("E")]
    assert errors == []
