"""The launcher's random faults model what ECS does: Spot reclaims hit Spot tasks only, so a
job's on-demand attempt (the Spot fallback's last) is never interrupted at random."""

from __future__ import annotations

from pathlib import Path

from local.tasks import INTERRUPT_AFTER_SECONDS, TaskFaults, TaskLauncher

JOB = {"video_id": "v1", "rendition": {"name": "360p"}}


def test_random_interruptions_hit_spot_tasks_at_the_rate() -> None:
    faults = TaskFaults(interrupt_rate=0.5, seed=3)
    delays = [faults.interrupts(JOB, "FARGATE_SPOT") for _ in range(400)]

    interrupted = [d for d in delays if d is not None]
    assert 150 < len(interrupted) < 250
    low, high = INTERRUPT_AFTER_SECONDS
    assert all(low <= d <= high for d in interrupted)


def test_on_demand_tasks_are_never_interrupted_at_random() -> None:
    faults = TaskFaults(interrupt_rate=1.0, seed=3)

    assert [faults.interrupts(JOB, "FARGATE") for _ in range(50)] == [None] * 50
    assert faults.interrupts(JOB, "FARGATE_SPOT") is not None


def test_a_planned_interruption_applies_on_any_capacity(tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text('{"v1": {"fault": "interrupt", "job": "360p", "attempts": 2}}')
    faults = TaskFaults(plan_path=plan)

    outcomes = [faults.interrupts(JOB, "FARGATE") for _ in range(3)]
    assert [o is not None for o in outcomes] == [True, True, False]


def test_a_launcher_makes_its_ecs_client_once_before_any_task(tmp_path: Path) -> None:
    # Making a client loads ECS's service model: the first task used to wait for it
    launcher = TaskLauncher(endpoint_url="http://127.0.0.1:9", log_dir=tmp_path)

    assert launcher._ecs() is launcher._ecs()
