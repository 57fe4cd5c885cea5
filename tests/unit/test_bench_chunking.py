"""The chunked-encoding model of the bench: waves, start-up, and the targets it reports."""

from __future__ import annotations

import pytest

from bench.chunking import ORCHESTRATION_SECONDS, chunk_lengths, modelled_times
from bench.chunking_report import chunking_targets

RATES = {"1080p": 1.0, "240p": 0.1}  # encode seconds per source second


def test_chunks_cover_the_source_with_a_shorter_last_one() -> None:
    assert chunk_lengths(250, 120) == [120, 120, 10]


def test_the_cheapest_rung_and_audio_play_first_then_the_rest_follows() -> None:
    times = modelled_times(
        RATES, 0.01, "240p", source_seconds=240, chunk_seconds=120, tasks=10, startup_seconds=40
    )
    # wave 1: two 240p chunks (40 + 12 s) and the audio (40 + 2.4 s) side by side
    assert times["first_playable_s"] == pytest.approx(ORCHESTRATION_SECONDS + 52)
    # wave 2: two 1080p chunks of 40 + 120 s side by side
    assert times["ready_s"] == pytest.approx(ORCHESTRATION_SECONDS + 52 + 160)


def test_without_chunks_each_rung_is_one_task_and_nothing_plays_before_the_slowest() -> None:
    times = modelled_times(
        RATES, 0.01, "240p", source_seconds=240, chunk_seconds=0, tasks=10, startup_seconds=40
    )
    assert times["first_playable_s"] == times["ready_s"] == ORCHESTRATION_SECONDS + 40 + 240


def test_fewer_tasks_than_chunks_queue_them() -> None:
    one = modelled_times(
        RATES, 0.0, "240p", source_seconds=240, chunk_seconds=120, tasks=1, startup_seconds=0
    )
    assert one["ready_s"] == pytest.approx(ORCHESTRATION_SECONDS + 24 + 0 + 240)


def test_targets_read_the_best_strategy_and_per_rung_beside_it() -> None:
    model = [
        {"strategy": s, "chunk_seconds": 120, "tasks": 40, "ready_s": r, "first_playable_s": f}
        for s, r, f in (("per_rung", 400.0, 50.0), ("balanced", 280.0, 70.0))
    ]
    joins = {
        "rung": "360p",
        "frames_whole": 10,
        "frames_stitched": 10,
        "frame_duration_s": 0.0333,
        "timestamp_steps_s": [0.0333],
        "worst_ssim_drop_near_boundaries": 0.001,
        "audio_video_end_gap_s": 0.02,
        "source_audio_video_end_gap_s": 0.02,
    }
    results = {
        "chunking": {
            "model": model,
            "cpu_over_floor": {"per_rung": 1.8, "balanced": 1.3, "one_decode_per_chunk": 1.0},
            "joins": joins,
        }
    }
    met = {t["name"]: t["met"] for t in chunking_targets(results)}
    assert met["60-min 1080p, 40 tasks, 120 s chunks, balanced: ready (s, modelled)"] is True
    assert (
        met["60-min 1080p, 40 tasks, 120 s chunks, balanced: first playable (s, modelled)"] is False
    )
    assert met["60-min 1080p, 40 tasks, 120 s chunks, per_rung: ready (s, modelled)"] is False
    assert met["chunked balanced (best of the two) CPU / floor CPU"] is False
    assert all(v for k, v in met.items() if k.startswith("joins"))
