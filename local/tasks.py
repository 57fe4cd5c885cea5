"""ECS tasks as local processes: what `ecs:runTask.sync` starts offline.

The launcher reads the task definition from moto, registers the task with moto's ECS (which
checks the cluster, task definition, subnets and security groups as ECS would), and runs the
container's command as a subprocess with the definition's environment plus the container
overrides. `local/engine_hooks.py` wires it into moto's Step Functions interpreter.

`TaskFaults` injects what ECS does to tasks: a RunTask refused for capacity (raised as
`CapacityRefused`), and a running task interrupted (SIGTERM to the container, SIGKILL after a
grace period, then stop code `SpotInterruption` on FARGATE_SPOT or `TerminationNotice` on
FARGATE), at random rates from a seed, or as the fault plan that tests/support/faults.py
reads names them ("refuse" / "interrupt": the first N attempts of a video's job). Random
interruptions are Spot reclaims, so they hit FARGATE_SPOT tasks only: on-demand capacity is
not reclaimed, which is why the Spot fallback's last attempt runs there.
"""

from __future__ import annotations

import json
import logging
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from local import iam_audit

log = logging.getLogger("streamforge.local.tasks")

KILL_GRACE_SECONDS = 5.0
REPO_ROOT = Path(__file__).resolve().parent.parent
FAULT_PLAN_ENV = "STREAMFORGE_FAULT_PLAN"
JOB_ENV = "STREAMFORGE_JOB"
# ECS's words for a refused placement and a reclaimed Spot task
CAPACITY_REASON = (
    "Capacity is unavailable at this time. Please try again later or in a different "
    "availability zone"
)
SPOT_REASON = "Your Spot Task was interrupted."
TERMINATION_REASON = "Task stopped: the host it ran on was terminated."
# When an injected interruption arrives after the task starts: from the transcoder's start-up
# to mid-encode of a short clip's job
INTERRUPT_AFTER_SECONDS = (0.3, 1.5)
PLANNED_INTERRUPT_AFTER_SECONDS = 0.5


class CapacityRefused(Exception):
    """RunTask answered with a capacity failure and started nothing."""

    def __init__(self, task_definition: str) -> None:
        super().__init__(CAPACITY_REASON)
        self.failures = [{"Arn": task_definition, "Reason": CAPACITY_REASON}]


@dataclass
class TaskFaults:
    """Which RunTasks to refuse and which tasks to interrupt: at random (rates, seeded), or
    as the fault plan names them. Counts what it injected."""

    interrupt_rate: float = 0.0
    refuse_rate: float = 0.0
    seed: int = 0
    plan_path: Path | None = None
    refused: int = 0
    interrupted: int = 0
    _random: random.Random = field(init=False)
    _planned: dict[tuple[str, str, str], int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    @classmethod
    def from_environment(cls, **rates: Any) -> TaskFaults:
        plan = os.environ.get(FAULT_PLAN_ENV)
        return cls(plan_path=Path(plan) if plan else None, **rates)

    def refuses(self, job: Mapping[str, Any]) -> bool:
        with self._lock:
            refuse = self._planned_fault(job, "refuse") or self._roll(self.refuse_rate)
            self.refused += refuse
            return refuse

    def interrupts(self, job: Mapping[str, Any], capacity_provider: str) -> float | None:
        """Seconds after the start at which to interrupt the task, or None."""
        with self._lock:
            if self._planned_fault(job, "interrupt"):
                return PLANNED_INTERRUPT_AFTER_SECONDS  # before any job can finish
            if capacity_provider != "FARGATE_SPOT" or not self._roll(self.interrupt_rate):
                return None
            return self._random.uniform(*INTERRUPT_AFTER_SECONDS)

    def count_interruption(self) -> None:
        with self._lock:
            self.interrupted += 1

    def _roll(self, rate: float) -> bool:
        return rate > 0 and self._random.random() < rate

    def _planned_fault(self, job: Mapping[str, Any], fault: str) -> bool:
        if self.plan_path is None or not self.plan_path.exists():
            return False
        video_id = str(job.get("video_id", ""))
        plan = json.loads(self.plan_path.read_text()).get(video_id)
        name = str(job.get("rendition", {}).get("name", ""))
        if not plan or plan.get("fault") != fault or plan.get("job") != name:
            return False
        key = (video_id, name, fault)
        self._planned[key] = self._planned.get(key, 0) + 1
        return self._planned[key] <= int(plan.get("attempts", 1))


@dataclass
class LocalTask:
    task_arn: str
    cluster_arn: str
    container_name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    overrides: dict[str, Any]
    capacity_provider: str = "FARGATE"
    started: float = field(default_factory=time.monotonic)
    stop_code: str = "EssentialContainerExited"
    stopped_reason: str = "Essential container in task exited"

    def describe(self) -> dict[str, Any]:
        """The shape Step Functions returns for a stopped task (DescribeTasks, PascalCase)."""
        exit_code = self.process.returncode
        if exit_code is not None and exit_code < 0:  # killed by a signal: as Docker reports it
            exit_code = 128 - exit_code
        return {
            "TaskArn": self.task_arn,
            "ClusterArn": self.cluster_arn,
            "LastStatus": "STOPPED" if exit_code is not None else "RUNNING",
            "DesiredStatus": "STOPPED",
            "StopCode": self.stop_code,
            "StoppedReason": self.stopped_reason,
            "LaunchType": "FARGATE",
            "CapacityProviderName": self.capacity_provider,
            "Overrides": self.overrides,
            "Containers": [
                {"Name": self.container_name, "ExitCode": exit_code, "LastStatus": "STOPPED"}
            ],
        }

    def stop(self) -> None:
        """Like ECS: SIGTERM to everything in the container, SIGKILL after a grace period."""
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(KILL_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def interrupt(self) -> bool:
        """What ECS does to a reclaimed Spot task (or one whose host goes): stop it, and say so
        in the stop code. A task that has already exited is left as it ended."""
        if self.process.poll() is not None:
            return False
        spot = self.capacity_provider == "FARGATE_SPOT"
        self.stop_code = "SpotInterruption" if spot else "TerminationNotice"
        self.stopped_reason = SPOT_REASON if spot else TERMINATION_REASON
        log.info("interrupting task %s (%s)", self.task_arn, self.stop_code)
        self.stop()
        return True


@dataclass
class TaskLauncher:
    """Starts a task definition's container as a local process."""

    endpoint_url: str
    log_dir: Path
    region: str = "us-east-1"
    base_environment: Mapping[str, str] = field(default_factory=dict)
    faults: TaskFaults = field(default_factory=TaskFaults)
    tasks: dict[str, LocalTask] = field(default_factory=dict)
    _client: Any = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # One client, made with the launcher: making one loads ECS's service model (about
        # 0.25 s of CPU), which the first task of a run waited for, in no way like on AWS
        self._client = boto3.client("ecs", endpoint_url=self.endpoint_url, region_name=self.region)

    def _ecs(self) -> Any:
        return self._client

    def run(self, parameters: Mapping[str, Any]) -> LocalTask:
        ecs = self._ecs()
        cluster = parameters["Cluster"]
        definition = ecs.describe_task_definition(taskDefinition=parameters["TaskDefinition"])
        container = definition["taskDefinition"]["containerDefinitions"][0]
        overrides = parameters.get("Overrides", {})
        container_override: dict[str, Any] = next(
            (
                o
                for o in overrides.get("ContainerOverrides", [])
                if o.get("Name") == container["name"]
            ),
            {},
        )
        environment = {e["name"]: e["value"] for e in container.get("environment", [])}
        environment.update(
            {e["Name"]: e["Value"] for e in container_override.get("Environment", [])}
        )
        command = list(container.get("entryPoint", [])) + list(
            container_override.get("Command") or container.get("command", [])
        )
        if command and command[0] in {"python", "python3"}:
            command[0] = sys.executable
        job = json.loads(environment.get(JOB_ENV) or "{}")
        if self.faults.refuses(job):
            raise CapacityRefused(parameters["TaskDefinition"])
        strategy = parameters.get("CapacityProviderStrategy") or [{}]
        first = strategy[0]  # moto hands nested keys over in either case
        capacity_provider = first.get("CapacityProvider") or first.get(
            "capacityProvider", "FARGATE"
        )

        vpc = parameters.get("NetworkConfiguration", {}).get("AwsvpcConfiguration", {})
        started = ecs.run_task(  # moto checks the cluster, task definition, subnets and groups
            cluster=cluster,
            taskDefinition=parameters["TaskDefinition"],
            launchType="FARGATE",
            startedBy="AWS Step Functions",
            count=1,
            networkConfiguration={
                "awsvpcConfiguration": {
                    "subnets": vpc.get("Subnets", []),
                    "securityGroups": vpc.get("SecurityGroups", []),
                    "assignPublicIp": vpc.get("AssignPublicIp", "DISABLED"),
                }
            },
        )["tasks"][0]
        task_arn = started["taskArn"]
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{task_arn.rsplit('/', 1)[-1]}.log"
        env = {**os.environ, **self.base_environment, **environment}
        env.update(iam_audit.task_environment(env))  # records the task role's calls
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(
                command,
                env=env,
                cwd=REPO_ROOT,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        task = LocalTask(
            task_arn=task_arn,
            cluster_arn=started["clusterArn"],
            container_name=container["name"],
            process=process,
            log_path=log_path,
            overrides=overrides,
            capacity_provider=capacity_provider,
        )
        self.tasks[task_arn] = task
        interrupt_after = self.faults.interrupts(job, capacity_provider)
        if interrupt_after is not None:
            timer = threading.Timer(interrupt_after, self._interrupt, (task,))
            timer.daemon = True
            timer.start()
        log.info("task %s started: %s (log %s)", task_arn, " ".join(command), log_path)
        return task

    def _interrupt(self, task: LocalTask) -> None:
        if task.interrupt():
            self.faults.count_interruption()

    def finished(self, task: LocalTask, reason: str = "") -> None:
        try:
            self._ecs().stop_task(cluster=task.cluster_arn, task=task.task_arn, reason=reason)
        except Exception:  # moto's record of the task is informational only
            log.debug("could not mark %s stopped in moto", task.task_arn, exc_info=True)
