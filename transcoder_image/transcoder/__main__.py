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
from transcoder.ffmpeg_process import JobFailedError, MediaError
from transcoder.runner import failure_key, run_job
from transcoder.settings import Settings
from transcoder.storage import MediaStore, make_s3_client

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
# FFmpeg refused this input: the workflow retries it once at most (stepfunctions/pipeline.asl.json)
EXIT_MEDIA = 3
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
    return run(job, settings)


def run(job: TranscodeJob, settings: Settings) -> int:
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
    except MediaError as exc:
        log.error(
            "job %s: ffmpeg refused the input: %s",
            job.label,
            exc.reason,
            extra={"fields": {"stderr_tail": exc.stderr_tail}},
        )
        _leave_reason(store, job, exc)
        return EXIT_MEDIA
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


def _leave_reason(store: MediaStore, job: TranscodeJob, error: MediaError) -> None:
    """ECS's task description has only the exit code: FFmpeg's reason goes beside the job's
    result, where RecordFailure reads it for the video's message."""
    note = json.dumps({"reason": error.reason, "stderr_tail": error.stderr_tail[-10:]})
    try:
        store.put_json(failure_key(job), note)
    except Exception:  # the exit code still tells the workflow what happened
        log.warning("could not store ffmpeg's reason for %s", job.label, exc_info=True)


def _configure_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines())
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    logging.getLogger("botocore").setLevel(logging.WARNING)


def _exit_on_sigterm() -> None:
    # As PID 1 in the container, Python would ignore ECS's SIGTERM (a Spot reclaim gives two
    # minutes). Exiting instead unwinds subprocess.run (which kills FFmpeg) and removes the
    # work directory; the result is written last, so nothing uploaded so far counts as done.
    def stop(signum: int, frame: object) -> None:
        log.error("terminated by signal %d", signum)
        sys.exit(EXIT_TERMINATED)

    signal.signal(signal.SIGTERM, stop)


if __name__ == "__main__":
    _configure_logging()
    _exit_on_sigterm()
    sys.exit(main(os.environ))
