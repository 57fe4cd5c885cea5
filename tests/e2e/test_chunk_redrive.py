"""A failed chunk is re-run alone on reprocess: on the session's offline stack chunking at
8 s, a 20 s 360p clip with audio (chunks 0-8, 8-16, 16-20 of the 360p and 240p rungs) whose
360p chunk 8-16 crashes on every attempt (tests/support/faults.py, "chunk") fails naming that
rendition and time range; reprocessed without the fault, it runs that chunk's task alone and
the stitched rungs play across both of its joins."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambdas.pipeline.contract import JOB_ENV_VAR, TranscodeJob
from local import engine_hooks
from local.media import download_media
from local.stack import OfflineStack
from local.tasks import LocalTask
from tests.e2e.test_chunked import CLIP_SECONDS, FPS, check_stitched_rungs
from tests.e2e.test_pipeline import upload
from tests.support.media import make_clip

CHUNK_SECONDS = 8
FAILED_CHUNK = 1  # 8-16 s: kept chunks on both sides of it
FAILED = "360p [8-16 s]"
EVERY_JOB = {
    *(f"{rung} [{span}]" for rung in ("360p", "240p") for span in ("0-8 s", "8-16 s", "16-20 s")),
    "audio",
    "thumbnails",
}


@pytest.fixture(scope="module")
def chunked_stack(offline_stack: OfflineStack) -> Iterator[OfflineStack]:
    """The session's stack planning 8 s chunks, then back to its own chunk length."""
    original = offline_stack.config.chunk_seconds
    offline_stack.use_chunk_seconds(CHUNK_SECONDS)
    try:
        yield offline_stack
    finally:
        offline_stack.use_chunk_seconds(original)


def job_labels(video_id: str) -> list[str]:
    """The label of every task launched for the video so far, in launch order."""
    return [
        job.label for job in map(_job_of, engine_hooks.launched_tasks()) if job.video_id == video_id
    ]


def _job_of(task: LocalTask) -> TranscodeJob:
    environment = task.overrides["ContainerOverrides"][0]["Environment"]
    (value,) = [v["Value"] for v in environment if v["Name"] == JOB_ENV_VAR]
    return TranscodeJob.model_validate_json(value)


def results_left(stack: OfflineStack, video_id: str) -> set[str]:
    listed = stack.client("s3").list_objects_v2(
        Bucket=stack.config.names.media_bucket, Prefix=f"{video_id}/jobs/"
    )
    return {item["Key"].removeprefix(f"{video_id}/jobs/") for item in listed.get("Contents", [])}


@pytest.mark.slow
def test_a_failed_chunk_is_rerun_alone_on_reprocess_and_the_rungs_play_across_its_joins(
    chunked_stack: OfflineStack, fault_plan: Path, tmp_path: Path
) -> None:
    # Given a video whose 360p chunk 8-16 s crashed on every attempt, and only that chunk
    clip = make_clip(tmp_path / "clip.mp4", width=640, height=360, seconds=CLIP_SECONDS, fps=FPS)
    client, video_id = upload(
        chunked_stack, clip, job="360p", chunk=FAILED_CHUNK, fault="crash", attempts=99
    )
    failed = client.wait_until_done(video_id, timeout_seconds=400)
    chunked_stack.wait_for_executions(timeout_seconds=120)

    # Then it failed naming the rendition and the chunk's time range
    assert failed["status"] == "FAILED", failed
    assert failed["error"]["code"] == "TRANSCODE_FAILED"
    assert "the 360p rendition from 0:08 to 0:16 failed" in failed["error"]["message"]
    first_run = job_labels(video_id)
    assert first_run.count(FAILED) == 3  # the crash budget: two retries
    assert set(first_run) <= EVERY_JOB
    assert "360p/chunk-0001.json" not in results_left(chunked_stack, video_id)

    # When the fault is cleared and the video reprocessed through the API
    plans = json.loads(fault_plan.read_text())
    del plans[video_id]
    fault_plan.write_text(json.dumps(plans))
    client.reprocess(video_id)
    done = client.wait_until_done(video_id, timeout_seconds=400)
    chunked_stack.wait_for_executions(timeout_seconds=120)

    # Then it completes; what the first run finished is kept, and only the rest ran again:
    # the failed chunk, and any job the failing Map stopped before it ended (none, unless the
    # machine was slow enough for the chunk's retries to end first)
    assert done["status"] == "COMPLETED", done.get("error")
    (kept_note,) = [
        e["message"]
        for e in done["processingLog"]
        if e["stage"] == "probe" and "kept" in e["message"]
    ]
    kept = {label for label in EVERY_JOB if label in kept_note}
    rerun = job_labels(video_id)[len(first_run) :]
    assert FAILED not in kept and FAILED in rerun
    assert sorted(rerun) == sorted(EVERY_JOB - kept)  # each once, none of the kept
    assert kept >= set(first_run) - {FAILED} - set(rerun)
    assert len(kept) >= len(EVERY_JOB) // 2, kept_note  # a redrive, not a rerun

    # And the stitched rungs parse and decode across the joins at 8 s and 16 s
    folder = tmp_path / "media"
    download_media(
        chunked_stack.client("s3"), chunked_stack.config.names.media_bucket, video_id, folder
    )
    check_stitched_rungs(folder, ["360p", "240p"])
