"""`python -m transcoder`: one job from the environment; the exit code says how it went."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
from collections.abc import Mapping

from pydantic import ValidationError

from transcoder.command import UnsupportedJobError
from transcoder.contract import JOB_ENV_VAR, TranscodeJob
from transcoder.runner import JobFailedError, run_job
from transcoder.settings import Settings
from transcoder.storage import MediaStore, make_s3_client

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_TERMINATED = 128 + signal.SIGTERM

log = logging.getLogger("transcoder")


class JsonLines(logging.Formatter):
    """One JSON object per line on stderr; structured data rides in `extra={"fields": ...}`."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def main(env: Mapping[str, str]) -> int:
    try:
        settings = Settings.from_env(env)
        raw_job = env.get(JOB_ENV_VAR)
        if not raw_job:
            log.error("%s is not set: nothing to transcode", JOB_ENV_VAR)
            return EXIT_BAD_INPUT
        job = TranscodeJob.model_validate_json(raw_job)
    except ValidationError as exc:
        log.error("invalid job or settings: %s", exc)
        return EXIT_BAD_INPUT

    try:
        store = MediaStore(
            make_s3_client(),
            uploads_bucket=settings.uploads_bucket,
            media_bucket=settings.media_bucket,
        )
        result = run_job(job, settings, store)
    except UnsupportedJobError as exc:
        log.error("cannot encode this job: %s", exc)
        return EXIT_BAD_INPUT
    except JobFailedError as exc:
        log.error(
            "job %s failed: %s", job.label, exc, extra={"fields": {"stderr_tail": exc.stderr_tail}}
        )
        return EXIT_FAILED
    except Exception:
        log.exception("job %s failed unexpectedly", job.label)
        return EXIT_FAILED
    fields = (
        {"results": [each.model_dump() for each in result]}
        if isinstance(result, list)
        else {"result": result.model_dump()}
    )
    log.info("job %s done", job.label, extra={"fields": fields})
    return EXIT_OK


def _configure_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines())
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    logging.getLogger("botocore").setLevel(logging.WARNING)


def _exit_on_sigterm() -> None:
    # As PID 1 in the container, Python would ignore ECS's SIGTERM. Exiting instead
    # unwinds subprocess.run (which kills FFmpeg) and removes the work directory.
    def stop(signum: int, frame: object) -> None:
        log.error("terminated by signal %d", signum)
        sys.exit(EXIT_TERMINATED)

    signal.signal(signal.SIGTERM, stop)


if __name__ == "__main__":
    _configure_logging()
    _exit_on_sigterm()
    sys.exit(main(os.environ))
