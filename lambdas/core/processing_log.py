"""The processing log: one entry per stage of a run (claim, probe, transcode:<job>,
playable, finalise, download, failure) with start, end, outcome and a message, stored in
the video's own partition. The pipeline functions write it; the API reads it with the video."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import ParamSpec

from lambdas.core.clock import utc_now_iso
from lambdas.core.models import (
    LOG_SORT_KEY_PREFIX,
    ProcessingLogEntry,
    log_sort_key,
)
from lambdas.core.observability import logger

P = ParamSpec("P")
SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"
MAX_MESSAGE_CHARS = 2000


@dataclass(frozen=True)
class JobRun:
    name: str
    task_arn: str | None
    message: str = ""


def _best_effort(write: Callable[P, None]) -> Callable[P, None]:
    """The log informs: failing to write it must not fail the pipeline step it describes."""

    @functools.wraps(write)
    def quietly(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            write(*args, **kwargs)
        except Exception:
            logger.exception("could not write the processing log", extra={"writer": write.__name__})

    return quietly


def record_entry(  # noqa: PLR0917 - one argument per column of the entry
    video_id: str,
    stage: str,
    started_at: str,
    ended_at: str,
    outcome: str,
    message: str = "",
    *,
    execution_arn: str | None = None,
    task_arn: str | None = None,
) -> ProcessingLogEntry:
    """Writes one entry. Its key is the stage and its start, so writing it again (a retried
    Lambda) replaces it instead of adding a copy."""
    entry = _new_entry(video_id, stage, started_at, ended_at, outcome, message)
    entry.execution_arn, entry.task_arn = execution_arn, task_arn
    entry.save()
    return entry


def _new_entry(  # noqa: PLR0917 - one argument per column of the entry
    video_id: str, stage: str, started_at: str, ended_at: str, outcome: str, message: str
) -> ProcessingLogEntry:
    return ProcessingLogEntry(
        pk=video_id,
        sk=log_sort_key(started_at, stage),
        stage=stage,
        started_at=started_at,
        ended_at=ended_at,
        outcome=outcome,
        message=message[:MAX_MESSAGE_CHARS],
    )


class StageNotes(list[str]):
    """What a stage did, as it says it; `failed`: it ended FAILED without raising (a step
    whose failure the run carries on from)."""

    failed: bool = False


@contextmanager
def stage(video_id: str, name: str, *, execution_arn: str | None = None) -> Iterator[StageNotes]:
    """Times the block and logs it as SUCCEEDED, or FAILED with the exception's message (the
    exception goes on). The block may append to the yielded list to say what it did, and
    set its `failed`."""
    started_at = utc_now_iso()
    notes = StageNotes()
    try:
        yield notes
    except Exception as error:
        message = str(error) or type(error).__name__
        _record_stage(video_id, name, started_at, FAILED, message, execution_arn)
        raise
    outcome = FAILED if notes.failed else SUCCEEDED
    _record_stage(video_id, name, started_at, outcome, "; ".join(notes), execution_arn)


@_best_effort
def _record_stage(  # noqa: PLR0917 - one argument per column of the entry
    video_id: str,
    name: str,
    started_at: str,
    outcome: str,
    message: str,
    execution_arn: str | None,
) -> None:
    record_entry(
        video_id, name, started_at, utc_now_iso(), outcome, message, execution_arn=execution_arn
    )


@_best_effort
def record_claim(video_id: str, execution_arn: str | None, claimed_at: str | None) -> None:
    """Logs the claim of the run that is starting. The Claim step is a conditional write in
    the state machine, at the time its input names (`claimed_at`, also the `updated_at` it
    wrote); a request without one (a direct invocation) is logged as claimed now."""
    claimed_at = claimed_at or utc_now_iso()
    record_entry(
        video_id,
        "claim",
        claimed_at,
        claimed_at,
        SUCCEEDED,
        f"claimed by execution {execution_arn}" if execution_arn else "claimed",
        execution_arn=execution_arn,
    )


@_best_effort
def record_jobs(
    video_id: str,
    jobs: Sequence[JobRun],
    *,
    ended_at: str,
    execution_arn: str | None = None,
) -> None:
    """One entry per transcoding job. The jobs ran side by side between the probe's end and
    `ended_at` (the finaliser's start): the state machine hands over their task ARNs, not
    their times."""
    started_at = _probe_end(video_id, execution_arn) or ended_at
    with ProcessingLogEntry.batch_write() as batch:  # up to 25 entries a request
        for job in jobs:
            entry = _new_entry(
                video_id,
                f"transcode:{job.name}",
                started_at,
                ended_at,
                SUCCEEDED,
                job.message or f"rendition {job.name} transcoded",
            )
            entry.execution_arn, entry.task_arn = execution_arn, job.task_arn
            batch.save(entry)


@_best_effort
def record_failure(video_id: str, code: str, message: str, execution_arn: str | None) -> None:
    now = utc_now_iso()
    record_entry(
        video_id, "failure", now, now, FAILED, f"{code}: {message}", execution_arn=execution_arn
    )


def entries_for(video_id: str) -> list[ProcessingLogEntry]:
    """Oldest first."""
    return list(
        ProcessingLogEntry.query(video_id, ProcessingLogEntry.sk.startswith(LOG_SORT_KEY_PREFIX))
    )


def _probe_end(video_id: str, execution_arn: str | None) -> str | None:
    probes = [
        e
        for e in entries_for(video_id)
        if e.stage == "probe" and e.outcome == SUCCEEDED and e.execution_arn == execution_arn
    ]
    return probes[-1].ended_at if probes else None


def delete_entries(video_id: str) -> int:
    entries = entries_for(video_id)
    with ProcessingLogEntry.batch_write() as batch:
        for entry in entries:
            batch.delete(entry)
    return len(entries)
