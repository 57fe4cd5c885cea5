"""Fixtures shared by the tiers: generated clips, and one offline stack per session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambdas.pipeline.clients import pipeline_adapters
from local import iam_audit
from local.config import OfflineConfig
from local.stack import OfflineStack
from tests.support.media import make_clip

FAULT_PLAN_ENV = "STREAMFORGE_FAULT_PLAN"


@pytest.fixture(scope="session")
def clip_720p(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 s, 1280x720, 25 fps, with stereo AAC: the everyday upload."""
    return make_clip(tmp_path_factory.mktemp("clips") / "clip_720p.mp4", seconds=3.0)


@pytest.fixture(scope="session")
def fault_plan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A file the fault-injecting transcoder wrapper reads (see tests/support/faults.py)."""
    path = tmp_path_factory.mktemp("faults") / "plan.json"
    path.write_text("{}")
    return path


@pytest.fixture(scope="session")
def iam_calls_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where every AWS call a principal of the offline stack makes is recorded (for
    tests/infrastructure/test_iam_sufficiency.py). Installed before any client is made."""
    path = tmp_path_factory.mktemp("iam-audit") / "calls.jsonl"
    iam_audit.install(path)
    pipeline_adapters.cache_clear()  # clients made before the audit would go unrecorded
    return path


@pytest.fixture(scope="session")
def offline_stack(
    tmp_path_factory: pytest.TempPathFactory, fault_plan: Path, iam_calls_log: Path
) -> Iterator[OfflineStack]:
    """The whole offline stack, in this process. Its transcoder containers run through the
    fault-injecting wrapper, which is the real transcoder unless a test plans a fault. Every
    AWS call its principals make is recorded in `iam_calls_log`."""
    os.environ[FAULT_PLAN_ENV] = str(fault_plan)
    config = OfflineConfig(
        state_dir=tmp_path_factory.mktemp("offline-state"),
        transcoder_entrypoint=("python", "-m", "tests.support.faults"),
        x264_preset="veryfast",
        # short enough that the hang test ends in a minute, long for a few-second clip
        job_timeout_min_seconds=30,
    )
    with OfflineStack(config) as stack:
        yield stack
