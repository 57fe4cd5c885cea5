"""python -m bench [--quick] [--preset PRESET] [--only imports,api,lifecycle,soak,chunking,av1]"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path

# The in-process Lambdas log every request at INFO; the benchmark only wants their warnings.
# Read when their loggers are created, that is when bench.run imports the offline stack,
# and by the API instances, which inherit the environment (as does the warnings filter).
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
os.environ.setdefault("PYTHONWARNINGS", "ignore:No application metrics to publish")

from bench.run import PARTS, Options, main


def parse_parts(value: str) -> list[str]:
    parts = [part.strip() for part in value.split(",") if part.strip()]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown or not parts:
        raise argparse.ArgumentTypeError(f"parts are {', '.join(PARTS)}; not {unknown}")
    return parts


def parse(argv: list[str] | None = None) -> tuple[Options, list[str] | None]:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Measure the offline pipeline against the one-process FFmpeg floor and "
        "write bench/results.json, bench/summary.md and bench/chart.png.",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run (4 s sources, ~2 minutes); writes to bench/work/quick/ instead of bench/",
    )
    parser.add_argument("--preset", default="veryfast", help="x264 preset (default: veryfast)")
    parser.add_argument("--seconds", type=float, help="source length in seconds (overrides)")
    parser.add_argument("--out", type=Path, help="directory for the three outputs (overrides)")
    parser.add_argument(
        "--only",
        type=parse_parts,
        help=f"re-measure only these parts ({','.join(PARTS)}) and merge them into the "
        "results.json already in the output directory",
    )
    args = parser.parse_args(argv)
    options = Options.smoke(args.preset) if args.quick else Options.full(args.preset)
    if args.seconds:
        options = replace(
            options, source_seconds=args.seconds, cut_seconds=max(1.0, round(args.seconds / 3))
        )
    if args.out:
        options = replace(options, out_dir=args.out)
    if args.seconds or args.out or args.preset != "veryfast" or args.only:
        given = sys.argv[1:] if argv is None else argv
        options = replace(options, command=" ".join(["python -m bench", *given]))
    return options, args.only


if __name__ == "__main__":
    sys.exit(main(*parse()))
