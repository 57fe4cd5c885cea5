"""The offline stack: moto as the AWS endpoint (S3 behind a front that checks presigned URLs),
the workflow in moto's interpreter, the API behind the gateway emulator. Start it, use it over
HTTP, stop it."""

from __future__ import annotations

import dataclasses
import gc
import json
import logging
import os
import time
from types import TracebackType
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from lambdas.core.settings import JobStrategy, reset_settings
from lambdas.pipeline.clients import pipeline_adapters
from local import (
    dynamodb_atomic,
    dynamodb_query,
    dynamodb_wire,
    engine_hooks,
    moto_dispatch,
    s3_ranges,
)
from local.auth import LocalIssuer, load_or_create_rsa_key, private_key_pem
from local.cdn import CdnServer, SignedUrlVerifier
from local.config import (
    ACCESS_KEY_ID,
    ACCOUNT,
    REGION,
    SECRET_ACCESS_KEY,
    OfflineConfig,
    free_port,
)
from local.gateway import GatewayServer, instance_environment
from local.lambda_instances import FunctionInstances, FunctionSpec
from local.resources import (
    LAMBDA_HANDLERS,
    Deployed,
    api_environment,
    deploy,
    function_environments,
    in_process_environment,
)
from local.s3front import PresignedVerifier, S3FrontServer
from local.tasks import TaskFaults, TaskLauncher
from local.upload_events import UploadEventPump

log = logging.getLogger("streamforge.local")

API_TIMEOUT_SECONDS = 15  # the API function's timeout (cdk/api.py)
TERMINAL_EXECUTION_STATES = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


# What the offline stack changes in moto, each checked against moto's own path by its unit test.
MOTO_PATCHES = (
    dynamodb_atomic.PATCH,  # a DynamoDB request at a time: conditional writes are atomic
    # Speed only:
    dynamodb_wire.PATCH,  # DynamoDB responses without the redundant serializer walk
    dynamodb_query.PATCH,  # Query without sorting the whole table first
    moto_dispatch.PATCH,  # the server finds a request's service once per host
    s3_ranges.PATCH,  # a ranged GET reads its range, not the whole object
)


class OfflineStack:
    def __init__(self, config: OfflineConfig | None = None):
        self.config = config or OfflineConfig()
        self.endpoint_url = ""
        self.s3_endpoint_url = ""
        self.deployed: Deployed | None = None
        self.issuer = LocalIssuer(self.config.state_dir / "jwt-signing-key.pem")
        self._moto: ThreadedMotoServer | None = None
        self._pump: UploadEventPump | None = None
        self.gateway: GatewayServer | None = None
        self.cdn: CdnServer | None = None
        self.s3_front: S3FrontServer | None = None
        self._video_events: list[dict[str, Any]] = []

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> OfflineStack:
        config = self.config
        port = config.moto_port or free_port()
        self.endpoint_url = f"http://{config.host}:{port}"
        # moto checks no presigned URL: S3 requests go through a front that does, as S3 would.
        self.s3_front = S3FrontServer(
            self.endpoint_url,
            PresignedVerifier({ACCESS_KEY_ID: SECRET_ACCESS_KEY}, REGION),
            host=config.host,
            port=config.s3_port,
        )
        self.s3_endpoint_url = self.s3_front.url
        # In-process handlers and moto's own clients reach AWS through these, as on Lambda;
        # botocore takes the S3 one for S3 clients and the URLs they presign.
        os.environ.update(
            {
                "MOTO_PORT": str(port),
                # moto's EC2 holds only the VPC the tasks' network interfaces need; its 1,300
                # default AMIs (half a second to load, at the first EC2 call) are never used.
                "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
                "AWS_ENDPOINT_URL": self.endpoint_url,
                "AWS_ENDPOINT_URL_S3": self.s3_endpoint_url,
                "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
                "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
                "AWS_DEFAULT_REGION": REGION,
                "AWS_REGION": REGION,
                **in_process_environment(config),
            }
        )
        # moto logs each failed state with its whole parse tree; the execution history says it.
        logging.getLogger("moto.stepfunctions").setLevel(logging.CRITICAL)
        for patch in MOTO_PATCHES:
            patch.install()
        self._moto = ThreadedMotoServer(ip_address=config.host, port=port, verbose=False)
        self._moto.start()
        self.s3_front.start()
        engine_hooks.install(
            TaskLauncher(
                endpoint_url=self.endpoint_url,
                log_dir=config.state_dir / "task-logs",
                region=REGION,
                base_environment={"PYTHONPATH": _transcoder_pythonpath()},
                faults=TaskFaults.from_environment(
                    interrupt_rate=config.interrupt_rate,
                    refuse_rate=config.refuse_rate,
                    seed=config.fault_seed,
                ),
            )
        )
        # The CDN's key pair: CloudFront holds the public half, the API reads the private half
        # from Secrets Manager (moto's, offline).
        cdn_key = load_or_create_rsa_key(config.state_dir / "cdn-signing-key.pem")
        self.cdn = CdnServer(
            self.client("s3"),
            config.names.media_bucket,
            SignedUrlVerifier(cdn_key.public_key(), config.cdn_key_pair_id),
            host=config.host,
            port=config.cdn_port,
        )
        self.deployed = deploy(
            boto3.Session(),
            self.endpoint_url,
            config,
            s3_endpoint_url=self.s3_endpoint_url,
            cdn_domain=self.cdn.domain,
            cdn_private_key_pem=private_key_pem(cdn_key),
        )
        # Code in this process that acts as the API (tests use its signer) reads the API's
        # settings here; the API's own instances get the function's variables only.
        os.environ.update(
            {
                **function_environments(config)["api_function"],
                **api_environment(self.deployed, self.cdn.domain),
            }
        )
        reset_settings()
        self.cdn.start()
        self._pump = UploadEventPump(
            self.client("sqs"),
            self.client("stepfunctions"),
            self.deployed.upload_events_queue_url,
            self.deployed.state_machine_arn,
        )
        self._pump.start()
        self.gateway = GatewayServer(
            self._api_instances(), self.issuer, host=config.host, port=config.api_port
        )
        self.gateway.start()
        # What start-up built (moto's models, the clients, the deployed stack) lives as long
        # as the stack: kept out of the collector's generations, a full collection no longer
        # walks it (one took 200 ms under the API bench's 8 clients, stalling them all).
        gc.collect()
        gc.freeze()
        log.info(
            "offline stack up: api %s, cdn %s, s3 %s, aws %s",
            self.gateway.url,
            self.cdn.url,
            self.s3_endpoint_url,
            self.endpoint_url,
        )
        return self

    def stop(self) -> None:
        if self._pump:  # its poll ends while the gateway stops
            self._pump.request_stop()
        if self.gateway:
            self.gateway.stop()
        if self._pump:
            self._pump.stop()
        self.wait_for_executions(timeout_seconds=0)
        engine_hooks.stop_all_tasks()
        if self.cdn:
            self.cdn.stop()
        if self.s3_front:
            self.s3_front.stop()
        if self._moto:
            self._moto.stop()
        gc.unfreeze()  # what the stack held can be collected again

    def _api_instances(self) -> FunctionInstances:
        name = self.config.names.api_function
        spec = FunctionSpec(
            handler=LAMBDA_HANDLERS["api_function"],
            name=name,
            arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}",
            timeout_seconds=API_TIMEOUT_SECONDS,
        )
        return FunctionInstances(spec, self._api_instance_environment, self.config.api_concurrency)

    def _api_instance_environment(self) -> dict[str, str]:
        """A new API instance's environment: the function's own, as deployed (read when the
        instance starts, as Lambda does), on top of the runtime's (AWS endpoints and
        credentials, PATH); none of the pipeline functions' variables."""
        name = self.config.names.api_function
        deployed = self.client("lambda").get_function_configuration(FunctionName=name)
        variables = deployed["Environment"]["Variables"]
        functions = function_environments(self.config).values()
        runtime = {k: v for k, v in os.environ.items() if not any(k in f for f in functions)}
        return instance_environment(name, {**runtime, **variables})

    def __enter__(self) -> OfflineStack:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # --- helpers for people and tests -----------------------------------------------------

    @property
    def api_url(self) -> str:
        assert self.gateway is not None, "the stack is not started"
        return self.gateway.url

    @property
    def cdn_url(self) -> str:
        assert self.cdn is not None, "the stack is not started"
        return self.cdn.url

    def use_job_strategy(self, strategy: JobStrategy) -> None:
        """Switches the running stack's `job_strategy` (the probe's JOB_STRATEGY), as a
        redeploy with another OfflineConfig would: the functions' configuration in moto and
        the environment the in-process handlers read. Executions started afterwards plan
        with it; one already past its Probe keeps its plan."""
        self._reconfigure_probe(job_strategy=strategy)

    def use_chunk_seconds(self, seconds: int) -> None:
        """Switches the running stack's `chunk_seconds` (the probe's CHUNK_SECONDS) the same way."""
        self._reconfigure_probe(chunk_seconds=seconds)

    def use_av1_ladder(self, on: bool) -> None:
        """Switches the running stack's `av1_ladder` (the probe's AV1_LADDER) the same way."""
        self._reconfigure_probe(av1_ladder=on)

    def _reconfigure_probe(self, **changes: Any) -> None:
        assert self.deployed is not None, "the stack is not started"
        self.config = dataclasses.replace(self.config, **changes)
        environment = function_environments(self.config)["probe_function"]
        aws_lambda = self.client("lambda")
        name = self.config.names.probe_function
        current = aws_lambda.get_function_configuration(FunctionName=name)
        variables = {**current.get("Environment", {}).get("Variables", {}), **environment}
        aws_lambda.update_function_configuration(
            FunctionName=name, Environment={"Variables": variables}
        )
        os.environ.update(in_process_environment(self.config))
        reset_settings()
        pipeline_adapters.cache_clear()  # holds the pipeline functions' settings

    def client(self, service: str) -> Any:
        endpoint = self.s3_endpoint_url if service == "s3" else self.endpoint_url
        return boto3.client(service, endpoint_url=endpoint, region_name=REGION)  # type: ignore[call-overload]

    def token(self, user: str) -> str:
        return self.issuer.issue(user)

    def executions(self) -> list[dict[str, Any]]:
        assert self.deployed is not None
        sfn = self.client("stepfunctions")
        pages = sfn.get_paginator("list_executions").paginate(
            stateMachineArn=self.deployed.state_machine_arn
        )
        return [execution for page in pages for execution in page["executions"]]

    def wait_for_executions(self, timeout_seconds: float = 600) -> list[dict[str, Any]]:
        """Waits until the upload queue is drained and no execution is running. Never leave
        moto while one runs: its interpreter thread would outlive the server."""
        deadline = time.monotonic() + timeout_seconds
        while True:
            pending = self._pending_upload_events()
            executions = self.executions() if self.deployed else []
            running = [e for e in executions if e["status"] not in TERMINAL_EXECUTION_STATES]
            if not running and not pending:
                return executions
            if time.monotonic() >= deadline:
                if timeout_seconds:
                    raise TimeoutError(f"{len(running)} executions still running")
                for execution in running:  # shutting down: stop what is left
                    self.client("stepfunctions").stop_execution(
                        executionArn=execution["executionArn"], cause="offline stack stopping"
                    )
                return executions
            time.sleep(0.5)

    def video_events(self) -> list[dict[str, Any]]:
        """Every VideoReady / VideoFailed event so far, oldest first. The stack moves them
        from the queue into memory, so each call sees all of them."""
        assert self.deployed is not None
        sqs = self.client("sqs")
        url = self.deployed.video_events_queue_url
        while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            for message in batch:
                self._video_events.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return list(self._video_events)

    def _pending_upload_events(self) -> int:
        if not self.deployed:
            return 0
        attributes = self.client("sqs").get_queue_attributes(
            QueueUrl=self.deployed.upload_events_queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return sum(int(value) for value in attributes.values())


def _transcoder_pythonpath() -> str:
    from local.config import REPO_ROOT

    paths = [str(REPO_ROOT / "transcoder_image"), str(REPO_ROOT)]
    existing = os.environ.get("PYTHONPATH")
    return os.pathsep.join([*paths, existing] if existing else paths)
