"""On the offline stack: the version the upload event names flows through the workflow
(ReadEvent, the probe, the plan, each transcoder task), so a source overwritten while
its jobs run is still transcoded from the version that was checked."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from lambdas.core.videos import source_key_for
from lambdas.pipeline.contract import JobResult, TranscodeJob, result_key
from local import engine_hooks
from local.stack import OfflineStack
from tests.e2e.test_pipeline import upload
from tests.support.media import make_clip

HUNG_JOB = "360p"  # the top rung of a 640x360 source


def wait_for_first_attempt(video_id: str, job: str, timeout_seconds: float = 120) -> None:
    """The fault wrapper counts attempts in a file beside the plan: once it exists, the
    probe has run and the job's first (hanging) task has started."""
    counter = Path(os.environ["STREAMFORGE_FAULT_PLAN"]).with_name(f"{video_id}-{job}.attempts")
    deadline = time.monotonic() + timeout_seconds
    while not counter.exists():
        assert time.monotonic() < deadline, f"the {job} task of {video_id} never started"
        time.sleep(0.2)


def launched_jobs(video_id: str) -> list[TranscodeJob]:
    """Every job the workflow handed a transcoder task, as the task received it."""
    jobs = []
    for task in engine_hooks.launched_tasks():
        for override in task.overrides.get("ContainerOverrides", []):
            for variable in override.get("Environment", []):
                if variable["Name"] == "STREAMFORGE_JOB":
                    job = TranscodeJob.model_validate_json(variable["Value"])
                    if job.video_id == video_id:
                        jobs.append(job)
    return jobs


def test_a_source_overwritten_while_its_jobs_run_is_transcoded_from_the_checked_version(
    offline_stack: OfflineStack, tmp_path: Path
) -> None:
    # Given a 640x360, 3 s upload whose top rung hangs on its first attempt
    first = make_clip(tmp_path / "first.mp4", width=640, height=360, seconds=3.0)
    second = make_clip(tmp_path / "second.mp4", width=1280, height=720, seconds=1.0)
    client, video_id = upload(offline_stack, first, job=HUNG_JOB, fault="hang", attempts=1)
    wait_for_first_attempt(video_id, HUNG_JOB)

    # When the source is overwritten (1280x720, 1 s) before the retry reads it
    s3 = offline_stack.client("s3")
    bucket, key = offline_stack.config.names.uploads_bucket, source_key_for(video_id)
    s3.put_object(Bucket=bucket, Key=key, Body=second.read_bytes())
    video = client.wait_until_done(video_id, timeout_seconds=300)
    offline_stack.wait_for_executions(timeout_seconds=120)

    # Then every task read the version the first upload stored, and the retried rung is
    # the first version's picture and length, not the overwrite's
    assert video["status"] == "COMPLETED", video.get("error")
    versions = s3.list_object_versions(Bucket=bucket, Prefix=key)["Versions"]
    # The overwrite is the latest; the first upload's is the other one (LastModified has
    # one-second resolution, and both may fall in the same second).
    assert len(versions) == 2
    checked = next(version["VersionId"] for version in versions if not version["IsLatest"])
    jobs = launched_jobs(video_id)
    assert [job.name for job in jobs].count(HUNG_JOB) == 2  # the hung attempt and the retry
    assert {job.source_version for job in jobs} == {checked}
    body = s3.get_object(
        Bucket=offline_stack.config.names.media_bucket, Key=result_key(video_id, HUNG_JOB)
    )["Body"]
    result = JobResult.model_validate_json(body.read())
    assert (result.width, result.height) == (640, 360)
    assert result.duration_seconds == pytest.approx(3.0, abs=0.1)
