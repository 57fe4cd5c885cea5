#!/usr/bin/env python3
"""CDK entry point: the pinned CLI's `cdk synth` / `cdk deploy` run it (`make synth` too)."""

import os

from cdk.application import build_app

# Run without the CLI (`python app.py`), write the assembly where the CLI would.
app, _ = build_app(outdir=None if "CDK_OUTDIR" in os.environ else "cdk.out")
app.synth()
