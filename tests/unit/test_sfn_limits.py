"""Step Functions' limits hold for the worst plan: a 3-hour 2160p60 source with audio, the
H.264 and HEVC ladders, chunked, under every strategy.

- every state's input and output (the probe's plan, a wave, the Map's raw result and what
  it keeps, each Lambda payload, the dead-letter message) under 256 KiB;
- the execution's history under 25,000 events: a run where every job succeeds, a storm
  where every job is interrupted once and refused capacity once, and a run where one job
  spends every retry the workflow allows before the video fails;
- at most 40 iterations of an inline Map at once;
- a job's STREAMFORGE_JOB container override within ECS's 8 KiB of overrides.

Sizes are of the JSON the ASL builds from the paths it names (read from the file, so a new
field a state passes counts); history events are counted per state type as AWS records
them (Entered/Exited per state, Scheduled/Started/[Submitted]/Succeeded per task, and
Failed/Scheduled/Started/[Submitted] per retried attempt)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lambdas.core.settings import Settings
from lambdas.pipeline.chunks import MAX_CHUNK_JOBS, MAX_CHUNK_RENDITIONS
from lambdas.pipeline.probe import INLINE_MAP_MAX_CONCURRENCY, Plan, ProbeRequest, plan_jobs
from lambdas.pipeline.source import MAX_AUDIO_TRACKS, AudioTrack, SourceInfo, audio_tracks
from lambdas.pipeline.strategy import STRATEGIES

ASL = Path(__file__).resolve().parents[2] / "stepfunctions" / "pipeline.asl.json"
PAYLOAD_LIMIT = 256 * 1024
HISTORY_LIMIT = 25_000
CONTAINER_OVERRIDES_LIMIT = 8 * 1024
# Real-length identifiers: a video id, an S3 version id, an ECS task ARN.
VIDEO_ID = "0f8fad5b-d9cb-469f-a165-70867728950e"
TASK_ARN = (
    "arn:aws:ecs:eu-central-1:123456789012:task/"
    "StreamForge-Pipeline-Cluster1A2B3C4D-x9y8z7w6v5u4/0123456789abcdef0123456789abcdef"
)
# What a failed state adds to the payload it carries on (Error and Cause: a cause is at
# most 32 KiB on AWS); and what a job's item may hold beside its input when it ends (the
# task's ARN, its attempt counters and capacity, some 250 bytes today).
ERROR_BYTES = 32 * 1024
ITEM_OVERHEAD_BYTES = 512


class HevcSettings(Settings):
    hevc_ladder: bool = True


class EveryLadderSettings(HevcSettings):
    av1_ladder: bool = True


# The HEVC ladder, and the AV1 one too: three ladders make more renditions per chunk, so
# longer chunks (chunk_seconds_within), which is not the largest payload for every strategy
LADDERS = {"h264+hevc": HevcSettings, "h264+hevc+av1": EveryLadderSettings}


def worst_plan(strategy: str, ladders: str = "h264+hevc") -> Plan:
    request = ProbeRequest.model_validate(
        {
            "video_id": VIDEO_ID,
            "source_key": f"{VIDEO_ID}/source",
            "source_object": {"version-id": "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY3HL4kqtJlcpX"},
        }
    )
    source = SourceInfo(
        duration_seconds=3 * 3600.0,
        display_width=3840,
        display_height=2160,
        frame_rate=59.94,
        video_codec="hevc",
        has_audio=True,
        format_name="mov,mp4,m4a,3gp,3g2,mj2",
        size_bytes=50 * 1024**3,
        audio_tracks=worst_audio_tracks(),
    )
    settings = LADDERS[ladders](
        videos_table_name="t",
        uploads_bucket="u",
        media_bucket="m",
        ladder_max_height=2160,
        job_strategy=strategy,
    )
    return plan_jobs(request, source, settings)


def worst_audio_tracks() -> list[AudioTrack]:
    """As many tracks as are kept, each with the longest title and language tag kept."""
    stream = {"codec_type": "audio", "disposition": {"comment": 1}}
    tags = {"language": "x" * 8 + "-abcdefgh" * 3, "title": "T" * 500}
    return audio_tracks([{**stream, "tags": tags}] * (MAX_AUDIO_TRACKS + 4))


def definition() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(ASL.read_text())
    return loaded


def size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":")).encode())


def resolve(template: Any, data: Any, item: Any = None) -> Any:
    """A Parameters/ItemSelector template filled from `data` (and `$$.Map.Item.Value`)."""
    if isinstance(template, list):
        return [resolve(value, data, item) for value in template]
    if not isinstance(template, dict):
        return template
    filled: dict[str, Any] = {}
    for key, value in template.items():
        if key.endswith(".$"):
            filled[key[:-2]] = path(value, data, item)
        else:
            filled[key] = resolve(value, data, item)
    return filled


def path(expression: str, data: Any, item: Any) -> Any:
    if expression.startswith("$$.Map.Item.Value"):
        data, expression = item, "$" + expression.removeprefix("$$.Map.Item.Value")
    if expression.startswith("$$"):
        return "arn:aws:states:eu-central-1:123456789012:execution:StreamForge:" + VIDEO_ID
    return follow(data, [part for part in expression.removeprefix("$").split(".") if part])


def follow(value: Any, parts: list[str]) -> Any:
    for index, part in enumerate(parts):
        if part.endswith("[*]"):
            return [follow(element, parts[index + 1 :]) for element in value[part[:-3]]]
        value = value[part]
    return value


def states() -> dict[str, Any]:
    return definition()["States"]


def wave_states() -> dict[str, Any]:
    result: dict[str, Any] = states()["Waves"]["ItemProcessor"]["States"]
    return result


def item_processor() -> dict[str, Any]:
    result: dict[str, Any] = wave_states()["Transcode"]["ItemProcessor"]
    return result


def payloads(plan: Plan) -> dict[str, int]:
    """The size of every payload a run of `plan` passes between states."""
    plan_json = plan.model_dump(mode="json")
    waves_map, transcode = states()["Waves"], wave_states()["Transcode"]
    sizes = {"plan (Probe output, Waves input)": size(plan_json)}
    wave_results = []
    for index, wave in enumerate(plan_json["waves"]):
        wave_input = resolve(waves_map["ItemSelector"], plan_json, wave)
        items = [resolve(transcode["ItemSelector"], wave_input, job) for job in wave["jobs"]]
        ended = [size(item) + size({"task": {"task_arn": TASK_ARN}}) + ITEM_OVERHEAD_BYTES
                 for item in items]  # fmt: skip
        sizes[f"wave {index} input"] = size(wave_input)
        sizes[f"wave {index} Map raw result"] = sum(ended) + len(ended) + 1
        kept = {"task_arns": [TASK_ARN] * len(items)}
        after = wave_input | {"transcoded": kept}
        sizes[f"wave {index} after Transcode"] = size(after)
        publish = wave_states()["PublishProvisional"]["Parameters"]["Payload"]
        sizes[f"wave {index} PublishProvisional payload"] = size(resolve(publish, after))
        wave_results.append(resolve(wave_states()["WaveDone"]["Parameters"], after))
    finalise_input = plan_json | {"transcoded": wave_results}
    sizes["Finalise input"] = size(finalise_input)
    finalise = states()["Finalise"]["Parameters"]["Payload"]
    sizes["Finalise payload"] = size(resolve(finalise, finalise_input))
    failed = finalise_input | {"error": {"Error": "States.TaskFailed", "Cause": "x" * ERROR_BYTES}}
    message = states()["SendToDeadLetterQueue"]["Parameters"]["MessageBody"]
    sizes["dead-letter message"] = size(resolve(message, failed))
    return sizes


@pytest.mark.parametrize("ladders", LADDERS)
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_the_worst_plan_keeps_every_payload_under_256_kib(strategy: str, ladders: str) -> None:
    plan = worst_plan(strategy, ladders)
    assert sum(1 for job in plan.jobs if job.chunk) <= MAX_CHUNK_JOBS
    assert sum(len(job.renditions) for job in plan.jobs if job.chunk) <= MAX_CHUNK_RENDITIONS
    over = {name: n for name, n in payloads(plan).items() if n >= PAYLOAD_LIMIT}
    assert not over, f"over 256 KiB: {over}"


@pytest.mark.parametrize("ladders", LADDERS)
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_every_job_fits_in_the_container_overrides(strategy: str, ladders: str) -> None:
    jobs = worst_plan(strategy, ladders).jobs
    largest = max(len(job.model_dump_json().encode()) for job in jobs)
    # the job as one environment value, beside its name and the rest of the override
    assert largest + 1024 < CONTAINER_OVERRIDES_LIMIT


def test_an_inline_map_runs_at_most_40_iterations_at_once() -> None:
    assert states()["Waves"]["MaxConcurrency"] == 1  # waves one after the other
    assert wave_states()["Transcode"]["MaxConcurrencyPath"] == "$.max_concurrency"
    for parallel in (0, 2, 40, 500):
        plan = plan_jobs_with(max_parallel_jobs=parallel)
        assert 0 < plan.max_concurrency <= INLINE_MAP_MAX_CONCURRENCY


def plan_jobs_with(**changes: Any) -> Plan:
    plan = worst_plan("per_rung")
    limited = min(changes["max_parallel_jobs"] or INLINE_MAP_MAX_CONCURRENCY, 40)
    rebuilt = plan_jobs(
        ProbeRequest.model_validate(
            {"video_id": "v", "source_key": "v/source", "source_object": {"version-id": "1"}}
        ),
        plan.source,
        Settings(videos_table_name="t", uploads_bucket="u", media_bucket="m", **changes),
    )
    assert rebuilt.max_concurrency == limited
    return rebuilt


# --- history ------------------------------------------------------------------------------

ENTER_EXIT = 2  # <Type>StateEntered, <Type>StateExited


def task_events(state: dict[str, Any], retries: int) -> int:
    """Entered, Scheduled, Started, [Submitted], Succeeded or Failed, Exited; and per retry
    Failed, Scheduled, Started, [Submitted]."""
    sync = 1 if state["Resource"].endswith(".sync") else 0
    return ENTER_EXIT + 3 + sync + retries * (3 + sync)


def retries_allowed(state: dict[str, Any]) -> int:
    return sum(int(retrier.get("MaxAttempts", 3)) for retrier in state.get("Retry", []))


def attempt_budget(processor_states: dict[str, Any]) -> int:
    """Times a job's states may run: once, plus each failure budget a Choice counts before
    it gives up (a NumericGreaterThanEquals threshold whose branch ends in Fail)."""
    fails = {name for name, state in processor_states.items() if state["Type"] == "Fail"}
    budget = 1
    for state in processor_states.values():
        for choice in state.get("Choices", []):
            if choice.get("Next") in fails and "NumericGreaterThanEquals" in choice:
                budget += int(choice["NumericGreaterThanEquals"])
    return budget


def success_path_events() -> int:
    """A job that succeeds at once: MapIterationStarted/Succeeded and the states from the
    ItemProcessor's start to its end, RunTranscoder succeeding."""
    processor = item_processor()
    events, name, seen = 2, processor["StartAt"], set()
    while name and name not in seen:
        seen.add(name)
        state = processor["States"][name]
        events += task_events(state, 0) if state["Type"] == "Task" else ENTER_EXIT
        name = None if state.get("End") else state.get("Next")
    return events


def job_events(*, failed_attempts: int, task_retries: int) -> int:
    """One job's iteration: the success path, plus per failed attempt one pass through every
    state of the ItemProcessor (an upper bound: a pass takes one branch of each Choice), plus
    the RunTranscoder's own retries (capacity refusals)."""
    processor = item_processor()["States"]
    one_pass = sum(
        task_events(state, 0) if state["Type"] == "Task" else ENTER_EXIT
        for state in processor.values()
    )
    transcoder = processor["RunTranscoder"]
    per_retry = task_events(transcoder, 1) - task_events(transcoder, 0)
    return success_path_events() + failed_attempts * one_pass + task_retries * per_retry


def execution_events(plan: Plan, per_job: list[int]) -> int:
    top = 2  # ExecutionStarted, ExecutionSucceeded
    top += ENTER_EXIT  # ReadEvent
    top += task_events(states()["Claim"], 0) + task_events(states()["Probe"], 0)
    top += 4 + 2 * len(plan.waves)  # Waves: Map Entered/Started/Succeeded/Exited, iterations
    for wave in plan.waves:
        top += 4  # the inner Map
        top += ENTER_EXIT + ENTER_EXIT  # IsProvisional, WaveDone
        top += task_events(wave_states()["PublishProvisional"], 0) if wave.provisional else 0
    top += task_events(states()["Finalise"], 0) + ENTER_EXIT  # Done
    return top + sum(per_job)


@pytest.mark.parametrize("ladders", LADDERS)
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_the_worst_plan_s_history_stays_under_25000_events(strategy: str, ladders: str) -> None:
    plan = worst_plan(strategy, ladders)
    jobs = len(plan.jobs)
    every_retry = attempt_budget(item_processor()["States"]) - 1
    capacity_retries = retries_allowed(item_processor()["States"]["RunTranscoder"])
    runs = {
        "every job succeeds": [job_events(failed_attempts=0, task_retries=0)] * jobs,
        "every job interrupted once and refused once": [
            job_events(failed_attempts=1, task_retries=1)
        ]
        * jobs,
        "one job spends every retry": [job_events(failed_attempts=0, task_retries=0)] * (jobs - 1)
        + [job_events(failed_attempts=every_retry, task_retries=capacity_retries)],
    }
    counts = {name: execution_events(plan, per_job) for name, per_job in runs.items()}
    over = {name: n for name, n in counts.items() if n >= HISTORY_LIMIT}
    assert not over, f"history over 25,000 events: {over} (jobs: {jobs})"
