"""Builds the CDK app: context from cdk.json, validated settings, the stack, cdk-nag."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks

from cdk import constants
from cdk.settings import Settings
from cdk.stack import StreamForgeStack

CDK_JSON = constants.REPO_ROOT / "cdk.json"


def build_app(
    context: Mapping[str, Any] | None = None,
    *,
    outdir: str | None = None,
    web_dist_dir: Path = constants.WEB_DIST_DIR,
) -> tuple[App, StreamForgeStack]:
    """The app as `cdk synth` and `python app.py` see it.

    cdk.json's context is always the base, so `python app.py` (no CLI) gets the same
    feature flags; the CLI's own context (`-c`) still wins over it, and `context` here
    (tests) wins over cdk.json.
    """
    base = json.loads(CDK_JSON.read_text()).get("context", {})
    app = App(context={**base, **(context or {})}, outdir=outdir)
    settings = Settings.from_node(app.node)
    stack = StreamForgeStack(
        app,
        f"{constants.APP_NAME}-{settings.environment_name}",
        settings=settings,
        web_dist_dir=web_dist_dir,
        description="StreamForge: video upload, transcoding and streaming",
    )
    apply_checks(app)
    return app, stack


def apply_checks(app: App) -> None:
    """cdk-nag's AwsSolutions pack on every synth; unacknowledged findings fail it."""
    Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
