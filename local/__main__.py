"""python -m local up | process FILE | token --user NAME | smoke --api URL --token T |
soak --videos N --interrupt-rate R --refuse-rate Q --seed S"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import get_args

from lambdas.core.settings import JobStrategy
from local.config import OfflineConfig


def _process(args: argparse.Namespace) -> int:
    """Only the final record goes to stdout; the handlers' logs go to stderr with ours."""
    result = sys.stdout
    with contextlib.redirect_stdout(sys.stderr):
        code, video = _process_quietly(args)
    if video is not None:
        print(json.dumps(video, indent=2), file=result)
    return code


def _process_quietly(args: argparse.Namespace) -> tuple[int, object]:
    from local.client import ApiClient, ApiError
    from local.media import download_media
    from local.stack import OfflineStack

    source = Path(args.file)
    if not source.is_file():
        print(f"no such file: {source}", file=sys.stderr)
        return 2, None
    config = OfflineConfig(job_strategy=args.job_strategy, chunk_seconds=args.chunk_seconds)
    with OfflineStack(config) as stack:
        client = ApiClient(stack.api_url, stack.token(args.user))
        try:
            created = client.create_video(source, args.title or source.stem, args.content_type)
        except ApiError as error:
            return 1, error.body
        video_id = created["video"]["id"]
        logging.info("created video %s; uploading %s", video_id, source)
        client.upload(created["upload"], source)
        video = client.wait_until_done(video_id, timeout_seconds=args.timeout)
        stack.wait_for_executions(timeout_seconds=120)
        video = client.get_video(video_id)
        if args.out and video["status"] == "COMPLETED":
            copied = download_media(
                stack.client("s3"), stack.config.names.media_bucket, video_id, Path(args.out)
            )
            logging.info("copied %d media files into %s", copied, args.out)
        return (0 if video["status"] == "COMPLETED" else 1), video


def _up(args: argparse.Namespace) -> int:
    from local.stack import OfflineStack
    from local.webapp import WebAppServer, WebConfig

    config = OfflineConfig(
        api_port=args.api_port, job_strategy=args.job_strategy, chunk_seconds=args.chunk_seconds
    )
    stopping = threading.Event()
    # Ctrl-C and SIGTERM both stop the stack. SIGINT is handled here, not left to Python's
    # KeyboardInterrupt: a process started in the background by a shell script inherits
    # SIGINT ignored, and Python then never raises it.
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, lambda *_: stopping.set())
    with OfflineStack(config) as stack:
        assert stack.gateway is not None and stack.cdn is not None
        webapp = WebAppServer(
            WebConfig(
                api_url=stack.api_url, cdn_url=stack.cdn_url, uploads_url=stack.s3_endpoint_url
            ),
            stack.issuer,
            port=args.web_port,
        )
        for origin in webapp.origins:  # the browser calls the API and the CDN cross-origin
            stack.gateway.allow_origin(origin)
            stack.cdn.allow_origin(origin)
        webapp.start()
        print(f"Web app  {webapp.url}  (sign in with any user name)")
        print(f"API      {stack.api_url}  (OpenAPI: {stack.api_url}/openapi.json)")
        print(f"CDN      {stack.cdn_url}  (signed URLs only)")
        print(f"S3       {stack.s3_endpoint_url}  (moto's S3; presigned URLs checked)")
        print(f"AWS      {stack.endpoint_url}  (moto: DynamoDB, SQS, Step Functions, ECS)")
        print("token    python -m local token --user alice")
        print("Ctrl-C stops the stack.", flush=True)
        stopping.wait()
        webapp.stop()
    return 0


def _token(args: argparse.Namespace) -> int:
    from local.auth import LocalIssuer

    issuer = LocalIssuer(OfflineConfig().state_dir / "jwt-signing-key.pem")
    print(issuer.issue(args.user, seconds=args.seconds))
    return 0


def _smoke(args: argparse.Namespace) -> int:
    """Progress and failures go to stderr, the summary to stdout."""
    from local.client import ApiError
    from local.smoke import SmokeFailed, run_smoke

    try:
        report = run_smoke(
            args.api,
            args.token,
            timeout_seconds=args.timeout,
            keep=args.keep,
            clip=Path(args.clip) if args.clip else None,
            progress=logging.info,
        )
    except (SmokeFailed, ApiError, TimeoutError, OSError) as error:
        print(f"smoke test FAILED: {error}", file=sys.stderr)
        return 1
    print("smoke test passed", *report.lines(), sep="\n")
    return 0


def _soak(args: argparse.Namespace) -> int:
    """The JSON summary goes to stdout; everything the stack logs to stderr."""
    result = sys.stdout
    with contextlib.redirect_stdout(sys.stderr):  # before the handlers' loggers are made
        from local.soak import SoakOptions, passed, run_soak

        options = SoakOptions(
            videos=args.videos,
            interrupt_rate=args.interrupt_rate,
            refuse_rate=args.refuse_rate,
            seed=args.seed,
            bound_seconds=args.bound,
        )
        summary = run_soak(options)
    print(json.dumps(summary), file=result)
    return 0 if passed(summary) else 1


def _add_job_strategy(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--job-strategy",
        choices=get_args(JobStrategy),
        default=OfflineConfig.job_strategy,
        help="per_rung: one transcoder per rendition; balanced: cheap rungs share a decode; "
        "chunk_ladder: every rung of a chunk from one decode",
    )


def _add_chunk_seconds(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--chunk-seconds",
        type=int,
        default=OfflineConfig.chunk_seconds,
        metavar="N",
        help="encode a source longer than N seconds in N-second chunks (whole 4 s segments); "
        "0: off",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true")
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser("up", help="run the offline stack in the foreground")
    up.add_argument("--api-port", type=int, default=8080)
    up.add_argument("--web-port", type=int, default=8081)
    _add_job_strategy(up)
    _add_chunk_seconds(up)
    up.set_defaults(run=_up)

    process = commands.add_parser("process", help="upload FILE and wait for its outcome")
    process.add_argument("file")
    process.add_argument("--title")
    process.add_argument("--out", help="copy the video's media outputs into this folder")
    process.add_argument("--user", default="local-cli")
    process.add_argument("--content-type", help="override the type guessed from the name")
    process.add_argument("--timeout", type=float, default=3600)
    _add_job_strategy(process)
    _add_chunk_seconds(process)
    process.set_defaults(run=_process)

    token = commands.add_parser("token", help="print a bearer token for a local user")
    token.add_argument("--user", required=True)
    token.add_argument("--seconds", type=int, default=3600)
    token.set_defaults(run=_token)

    smoke = commands.add_parser(
        "smoke", help="upload a generated clip to a deployed stack and play it back"
    )
    smoke.add_argument("--api", required=True, help="the API's URL (the stack's ApiUrl output)")
    smoke.add_argument("--token", required=True, help="a signed-in user's ID token")
    smoke.add_argument("--timeout", type=float, default=900, help="seconds to wait for it")
    smoke.add_argument("--keep", action="store_true", help="leave the video in place")
    smoke.add_argument("--clip", help="upload this file instead of a clip made with FFmpeg")
    smoke.set_defaults(run=_smoke)

    soak = commands.add_parser(
        "soak", help="N generated clips at once, with tasks interrupted and RunTasks refused"
    )
    soak.add_argument("--videos", type=int, default=12)
    soak.add_argument("--interrupt-rate", type=float, default=0.3, metavar="R")
    soak.add_argument("--refuse-rate", type=float, default=0.1, metavar="Q")
    soak.add_argument("--seed", type=int, default=7)
    soak.add_argument(
        "--bound", type=float, default=900, help="seconds after which a video counts as stuck"
    )
    soak.set_defaults(run=_soak)

    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("werkzeug", "botocore", "urllib3", "moto"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    code: int = args.run(args)
    # The process exits next and the OS frees its memory: a final collection of moto's large
    # heap would hold the exit for seconds after Ctrl-C.
    gc.freeze()
    return code


if __name__ == "__main__":
    sys.exit(main())
