#!/usr/bin/env python3
"""CDK entry point: `cdk synth` / `cdk deploy` run it, and so does `make synth`."""

import os

from cdk.application import build_app

# Outside the CDK CLI (make synth), write the assembly where the CLI would.
app, _ = build_app(outdir=None if "CDK_OUTDIR" in os.environ else "cdk.out")
app.synth()
