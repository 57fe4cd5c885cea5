"""Redrive-style reprocess: the transcoder's fingerprint of a job and the probe's agree, and
differ whenever the job does."""

from __future__ import annotations

from lambdas.pipeline.contract import TranscodeJob
from lambdas.pipeline.kept import FINGERPRINT_METADATA, fingerprint
from transcoder import contract as transcoder_contract
from transcoder.runner import made_by

JOB = {
    "video_id": "v1",
    "source_key": "v1/source",
    "source_version": "3",
    "output_prefix": "v1/hls/480p/",
    "rendition": {
        "kind": "video", "name": "480p", "width": 854, "height": 480, "frame_rate": 25,
        "crf": 22, "max_bitrate_kbps": 1500,
    },
    "chunk": {
        "index": 1, "count": 3, "start_seconds": 4, "duration_seconds": 4,
        "first_segment_number": 1,
    },
}  # fmt: skip


def test_the_transcoder_stores_the_fingerprint_the_probe_computes() -> None:
    planned = TranscodeJob.model_validate(JOB)
    # the job as the transcoder parses it from STREAMFORGE_JOB
    ran = transcoder_contract.TranscodeJob.model_validate_json(planned.model_dump_json())

    assert made_by(ran) == {FINGERPRINT_METADATA: fingerprint(planned)}


def test_another_source_version_chunk_or_setting_is_another_job() -> None:
    base = fingerprint(TranscodeJob.model_validate(JOB))
    changed = [
        {**JOB, "source_version": "4"},
        {**JOB, "chunk": {**JOB["chunk"], "index": 2}},  # type: ignore[dict-item]
        {**JOB, "rendition": {**JOB["rendition"], "crf": 23}},  # type: ignore[dict-item]
    ]
    assert all(fingerprint(TranscodeJob.model_validate(job)) != base for job in changed)
