"""ECS tasks as local processes: what `ecs:runTask.sync` starts offline.

The launcher reads the task definition from moto, registers the task with moto's ECS (which
checks the cluster, task definition, subnets and security groups as ECS would), and runs the
container's command as a subprocess with the definition's environment plus the container
overrides. `local/engine_hooks.py` wires it into moto's Step Functions interpreter.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
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


@dataclass
class LocalTask:
    task_arn: str
    cluster_arn: str
    container_name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    overrides: dict[str, Any]
    started: float = field(default_factory=time.monotonic)

    def describe(self, *, stopped_reason: str = "") -> dict[str, Any]:
        """The shape Step Functions returns for a stopped task (DescribeTasks, PascalCase)."""
        exit_code = self.process.returncode
        return {
            "TaskArn": self.task_arn,
            "ClusterArn": self.cluster_arn,
            "LastStatus": "STOPPED" if exit_code is not None else "RUNNING",
            "DesiredStatus": "STOPPED",
            "StopCode": "EssentialContainerExited",
            "StoppedReason": stopped_reason or "Essential container in task exited",
            "LaunchType": "FARGATE",
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


@dataclass
class TaskLauncher:
    """Starts a task definition's container as a local process."""

    endpoint_url: str
    log_dir: Path
    region: str = "us-east-1"
    base_environment: Mapping[str, str] = field(default_factory=dict)
    tasks: dict[str, LocalTask] = field(default_factory=dict)

    def _ecs(self) -> Any:
        return boto3.client("ecs", endpoint_url=self.endpoint_url, region_name=self.region)

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
        )
        self.tasks[task_arn] = task
        log.info("task %s started: %s (log %s)", task_arn, " ".join(command), log_path)
        return task

    def finished(self, task: LocalTask, reason: str = "") -> None:
        try:
            self._ecs().stop_task(cluster=task.cluster_arn, task=task.task_arn, reason=reason)
        except Exception:  # moto's record of the task is informational only
            log.debug("could not mark %s stopped in moto", task.task_arn, exc_info=True)
