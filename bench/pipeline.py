"""One source through the offline pipeline, measured from the outside.

Wall: from the end of the upload to COMPLETED (the end of Finalise); the MP4 download is made
after that, as its own state, and its time is reported beside the overhead. CPU, until the
execution ends (the download included): this process (moto, the gateway, the in-process
Lambdas, the event pump) plus every child it reaped (the transcoder processes and their
FFmpeg), as the difference of RUSAGE_SELF + RUSAGE_CHILDREN. Per task: the transcoder's own
result JSON (FFmpeg's wall, CPU and peak memory; bitrates; SSIM when present) and, from the
execution history, when each transcoder process was started and when it stopped.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.costs import union_seconds
from bench.history import (
    claimed_execution,
    completed_at,
    job_name_by_task,
    overhead_breakdown,
    planned_jobs,
    start_of_execution,
    task_intervals,
)
from bench.procs import CpuClock, Measured, run_measured
from local.client import ApiClient
from local.config import REPO_ROOT
from local.stack import OfflineStack
from transcoder.contract import TranscodeJob, result_key


@dataclass(frozen=True)
class PipelineRun:
    video_id: str
    status: str
    wall_seconds: float
    cpu_seconds: float
    jobs: list[TranscodeJob]  # as planned: a grouped job (balanced) stands for several
    results: dict[str, dict[str, Any]]  # rendition name -> the transcoder's result JSON
    task_walls: dict[str, float]  # job name -> transcoder process wall (history)
    critical_path_seconds: float  # time during which at least one transcoder ran
    overhead_parts: dict[str, float]

    @property
    def groups(self) -> dict[str, list[str]]:
        """Job name -> the names of the renditions its task encoded."""
        return {job.name: [member.name for member in job.members()] for job in self.jobs}

    @property
    def orchestration_overhead_seconds(self) -> float:
        return self.wall_seconds - self.critical_path_seconds


def _history(stack: OfflineStack, execution_arn: str) -> list[dict[str, Any]]:
    sfn = stack.client("stepfunctions")
    pages = sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn)
    return [event for page in pages for event in page["events"]]


def run_source(
    stack: OfflineStack, client: ApiClient, source: Path, title: str, timeout_seconds: float
) -> PipelineRun:
    # One PUT, whatever the size: moto emits two ObjectCreated events for a multipart
    # completion, and the second execution, ended by the Claim, would share the machine
    # with the first.
    created = client.create_video(source, title, "video/mp4", multipart=False)
    video_id: str = created["video"]["id"]
    client.upload(created["upload"], source)
    returned_at = time.time()
    before = CpuClock.now()
    video = client.wait_until_done(video_id, timeout_seconds=timeout_seconds)
    executions = stack.wait_for_executions(timeout_seconds=120)
    after = CpuClock.now()  # every transcoder process has been reaped by now
    # A multipart upload's completion emits two ObjectCreated events, so one video can have
    # two executions; the Claim lets one through and ends the other.
    histories = [
        _history(stack, e["executionArn"]) for e in executions if e["name"].startswith(video_id)
    ]
    events = claimed_execution(histories)
    if video["status"] != "COMPLETED":
        raise RuntimeError(f"{source.name}: pipeline ended {video['status']}: {video.get('error')}")
    jobs = planned_jobs(events)
    s3 = stack.client("s3")
    bucket = stack.config.names.media_bucket
    results = {
        member.name: json.loads(
            s3.get_object(Bucket=bucket, Key=result_key(video_id, member.name))["Body"].read()
        )
        for job in jobs
        for member in job.members()
    }
    # The upload is complete when S3 has the object, which can be a moment before the
    # client has read the response: its event may already have started the execution.
    uploaded_at = min([returned_at, *(start_of_execution(h) for h in histories)])
    intervals = task_intervals(events)
    names = job_name_by_task(events)
    walls = {names[i.task_arn]: i.seconds for i in intervals if i.task_arn in names}
    return PipelineRun(
        video_id=video_id,
        status=video["status"],
        wall_seconds=completed_at(events) - uploaded_at,
        cpu_seconds=after.cpu - before.cpu,
        jobs=jobs,
        results=results,
        task_walls=walls,
        critical_path_seconds=union_seconds([(i.started, i.stopped) for i in intervals]),
        overhead_parts=overhead_breakdown(events, uploaded_at, intervals),
    )


def run_one_job(
    stack: OfflineStack, job: TranscodeJob, source: Path, log_path: Path
) -> tuple[Measured, dict[str, Any]]:
    """One transcoder task, outside any workflow: the deployed task definition's command
    and environment plus the job, against the same moto; its source uploaded first."""
    names = stack.config.names
    with source.open("rb") as body:
        stored = stack.client("s3").put_object(
            Bucket=names.uploads_bucket, Key=job.source_key, Body=body
        )
    job = job.model_copy(update={"source_version": stored["VersionId"]})  # what it reads
    ecs = stack.client("ecs")
    definition = ecs.describe_task_definition(taskDefinition=names.task_family)
    container = definition["taskDefinition"]["containerDefinitions"][0]
    command = [*container.get("entryPoint", []), *container.get("command", [])]
    if command and command[0] in {"python", "python3"}:
        command[0] = sys.executable
    env = {
        **os.environ,
        **{item["name"]: item["value"] for item in container.get("environment", [])},
        "PYTHONPATH": os.pathsep.join(str(REPO_ROOT / p) for p in ("transcoder_image", ".")),
        "STREAMFORGE_JOB": job.model_dump_json(),
    }
    measured = run_measured(command, log_path=log_path, env=env)
    body = stack.client("s3").get_object(
        Bucket=names.media_bucket, Key=result_key(job.video_id, job.name)
    )["Body"]
    return measured, json.loads(body.read())
