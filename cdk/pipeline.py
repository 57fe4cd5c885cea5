"""The pipeline: Object Created -> Step Functions (the ASL file) -> probe -> Fargate per job
-> finalise, with failures recorded and sent to a dead-letter queue."""

from __future__ import annotations

import math

from aws_cdk import Annotations, Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from cdk import constants
from cdk.functions import image_platform, probe_image_code, python_function
from cdk.grants import acknowledge_function, acknowledge_xray, allow, allow_put_events
from cdk.nag import acknowledge, arn_finding, logical_id
from cdk.settings import Settings
from cdk.storage import Storage
from lambdas.core.settings import loudness_setting

# Fargate's ephemeral storage, in GiB: 20 without the setting, 21..200 with it.
FARGATE_STORAGE_GIB = (21, 200)
# Room besides a job's files: the container image is unpacked into the same storage.
_IMAGE_AND_LOGS_GIB = 4
PROBE_TIMEOUT = Duration.seconds(180)  # the ASL's Probe state gives it 210 s
# Finalise remuxes the MP4 download (docs/media.md); the ASL's Finalise state gives it 930 s.
FINALISE_TIMEOUT = Duration.minutes(15)
FINALISE_STORAGE_MIB = 10240  # Lambda's most: a 1080p download of about 3 hours


def ephemeral_storage_gib(max_upload_bytes: int) -> int:
    """Room for the largest accepted source and as much again for a job's outputs, which
    are written in full before they are uploaded."""
    low, high = FARGATE_STORAGE_GIB
    needed = math.ceil(2 * max_upload_bytes / 1024**3) + _IMAGE_AND_LOGS_GIB
    return max(low, min(high, needed))


class Pipeline(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        settings: Settings,
        storage: Storage,
        table: dynamodb.Table,
    ) -> None:
        super().__init__(scope, id)
        self._settings = settings

        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        acknowledge(
            self.dead_letter_queue,
            "AwsSolutions-SQS3",
            "This queue is the dead-letter queue itself: failed videos end here.",
        )

        self._network()
        self._transcoder(storage)
        self._functions(storage, table)
        self._state_machine(table)
        self._trigger(storage)

    # --- Networking: no NAT gateway -------------------------------------------------
    def _network(self) -> None:
        # Tasks sit in public subnets with public IPs: they pull their image from ECR and
        # send logs over the internet gateway, and reach S3 through the free gateway
        # endpoint. A NAT gateway (~$32/month each) or interface endpoints (~$7/month per
        # service per AZ) would cost more than the transcoding itself.
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=2,
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24
                )
            ],
            gateway_endpoints={
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3)
            },
        )
        flow_logs = logs.LogGroup(
            self,
            "VpcFlowLogs",
            retention=self._settings.log_retention,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs),
            traffic_type=ec2.FlowLogTrafficType.REJECT,
        )
        # No ingress rule at all: nothing ever connects to a transcoder; the public IP is
        # for outbound traffic only.
        self.security_group = ec2.SecurityGroup(
            self,
            "TranscoderSecurityGroup",
            vpc=self.vpc,
            description="StreamForge transcoder tasks: outbound only, no ingress",
            allow_all_outbound=True,
        )

    # --- The transcoder: one Fargate task per job -----------------------------------
    def _transcoder(self, storage: Storage) -> None:
        settings = self._settings
        self.cluster = ecs.Cluster(
            self,
            "Cluster",
            vpc=self.vpc,
            container_insights_v2=ecs.ContainerInsights.ENABLED,
            enable_fargate_capacity_providers=True,
        )
        # The state machine's RunTask names its capacity provider (${CapacityProvider}, so the
        # Spot fallback can switch one attempt); this default matches it for tasks run by hand.
        self.cluster.add_default_capacity_provider_strategy(
            [
                ecs.CapacityProviderStrategy(
                    capacity_provider="FARGATE_SPOT" if settings.fargate_spot else "FARGATE",
                    weight=1,
                )
            ]
        )

        cpu_architecture = (
            ecs.CpuArchitecture.ARM64
            if settings.architecture == "arm64"
            else ecs.CpuArchitecture.X86_64
        )
        storage_gib = ephemeral_storage_gib(settings.max_upload_bytes)
        if storage_gib == FARGATE_STORAGE_GIB[1]:
            Annotations.of(self).add_warning_v2(
                "streamforge:ephemeralStorage",
                f"maxUploadBytes {settings.max_upload_bytes}: a source this large and its "
                f"outputs may not fit in Fargate's {storage_gib} GiB of task storage.",
            )
        self.task_definition = ecs.FargateTaskDefinition(
            self,
            "TranscoderTask",
            cpu=settings.fargate_cpu,
            memory_limit_mib=settings.fargate_memory_mib,
            ephemeral_storage_gib=storage_gib,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=cpu_architecture,
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
            ),
        )
        task_logs = logs.LogGroup(
            self,
            "TranscoderLogs",
            retention=settings.log_retention,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.container = self.task_definition.add_container(
            constants.TRANSCODER_CONTAINER_NAME,
            container_name=constants.TRANSCODER_CONTAINER_NAME,
            image=ecs.ContainerImage.from_asset(
                str(constants.TRANSCODER_DIR),
                platform=image_platform(settings),
                exclude=["**/__pycache__", "**/*.pyc", ".mypy_cache", ".pytest_cache"],
            ),
            essential=True,
            # Only names, never secrets: the job itself arrives as a container override.
            environment={
                "UPLOADS_BUCKET": storage.uploads.bucket_name,
                "MEDIA_BUCKET": storage.media.bucket_name,
            },
            logging=ecs.LogDrivers.aws_logs(stream_prefix="transcoder", log_group=task_logs),
        )
        # Reads sources, writes media: nothing else.
        task_role = self.task_definition.task_role
        iam.Grant.add_to_principal(
            grantee=task_role,
            actions=["s3:GetObject", "s3:GetObjectVersion"],  # reads the pinned version
            resource_arns=[storage.uploads.arn_for_objects(constants.UPLOAD_SOURCE_PATTERN)],
        )
        iam.Grant.add_to_principal(
            grantee=task_role,
            actions=["s3:PutObject"],
            resource_arns=[storage.media.arn_for_objects("*")],
        )
        acknowledge(
            self.task_definition,
            "AwsSolutions-ECS2",
            "The environment holds bucket names only, no secrets.",
        )
        acknowledge(
            self.task_definition,
            "AwsSolutions-IAM5",
            "The transcoder reads any upload's source and writes any video's outputs; "
            "keys start with the video id.",
            findings=[
                arn_finding(storage.uploads, f"/{constants.UPLOAD_SOURCE_PATTERN}"),
                arn_finding(storage.media, "/*"),
            ],
        )
        acknowledge(
            self.task_definition,
            "AwsSolutions-IAM5",
            "ecr:GetAuthorizationToken has no resource-level permissions.",
            findings=["Resource::*"],
        )

    # --- Lambda functions of the workflow -------------------------------------------
    def _functions(self, storage: Storage, table: dynamodb.Table) -> None:
        settings = self._settings
        environment = {
            "VIDEOS_TABLE_NAME": table.table_name,
            "UPLOADS_BUCKET": storage.uploads.bucket_name,
            "MEDIA_BUCKET": storage.media.bucket_name,
        }
        self.probe = python_function(
            self,
            "Probe",
            settings=settings,
            service=constants.PROBE_SERVICE,
            image=probe_image_code(settings),
            description="Runs ffprobe on an uploaded source and plans the transcoding jobs",
            memory_size=1024,
            timeout=PROBE_TIMEOUT,
            environment={
                **environment,
                "MAX_UPLOAD_BYTES": str(settings.max_upload_bytes),
                "X264_PRESET": settings.x264_preset,
                "MAX_PARALLEL_JOBS": str(settings.max_parallel_jobs),
                "JOB_STRATEGY": settings.job_strategy,
                "CHUNK_SECONDS": str(settings.chunk_seconds),
                "LOUDNESS_TARGET_LUFS": loudness_setting(settings.loudness_target_lufs),
                "LADDER_MAX_HEIGHT": str(settings.ladder_max_height),
                "HEVC_LADDER": str(settings.hevc_ladder).lower(),
                "AV1_LADDER": str(settings.av1_ladder).lower(),
                "NATIVE_TOP_RUNG": str(settings.native_top_rung).lower(),
            },
        )
        self.finalise = python_function(
            self,
            "Finalise",
            settings=settings,
            service=constants.FINALISE_SERVICE,
            image=probe_image_code(settings, constants.FINALISE_HANDLER),
            description="Writes the master playlist and DASH manifest and the MP4 download, "
            "marks the video done",
            # One vCPU (1,769 MB) for FFmpeg's remux; /tmp holds the audio and the MP4.
            memory_size=1769,
            timeout=FINALISE_TIMEOUT,
            ephemeral_storage_mib=FINALISE_STORAGE_MIB,
            environment={
                **environment,
                "DOWNLOAD_MAX_HEIGHT": str(settings.download_max_height),
            },
        )
        self.record_failure = python_function(
            self,
            "RecordFailure",
            settings=settings,
            service=constants.RECORD_FAILURE_SERVICE,
            handler=constants.RECORD_FAILURE_HANDLER,
            description="Marks a video FAILED with a reason and removes unpublished outputs",
            memory_size=256,
            timeout=Duration.seconds(45),
            environment=environment,
        )

        sources = storage.uploads.arn_for_objects(constants.UPLOAD_SOURCE_PATTERN)
        # ListBucket lets a missing object read as 404 / NoSuchKey rather than 403.
        # ffprobe reads a presigned URL of the pinned version
        allow(self.probe, ["s3:GetObject", "s3:GetObjectVersion"], [sources])
        # a source the pipeline reads is kept: the probe drops its `upload=pending` tag
        allow(self.probe, ["s3:DeleteObjectVersionTagging"], [sources])
        allow(self.probe, ["s3:ListBucket"], [storage.uploads.bucket_arn])
        allow(self.finalise, ["s3:GetObject", "s3:PutObject"], [storage.media.arn_for_objects("*")])
        allow(self.finalise, ["s3:ListBucket"], [storage.media.bucket_arn])
        allow(self.record_failure, ["s3:ListBucket"], [storage.media.bucket_arn])
        allow(self.record_failure, ["s3:DeleteObject"], [storage.media.arn_for_objects("*")])
        # The results (what a failed run keeps for a reprocess) and FFmpeg's reason for a job
        # it refused, both under jobs/; the probe compares a reprocess's plan with them.
        results = [storage.media.arn_for_objects("*/jobs/*")]
        allow(self.record_failure, ["s3:GetObject"], results)
        allow(self.probe, ["s3:GetObject"], results)
        allow(self.probe, ["s3:ListBucket"], [storage.media.bucket_arn])
        # Each reads the video before a conditional update; none has table-level actions.
        for function in (self.probe, self.finalise, self.record_failure):
            table.grant_read_write_data(function)
        for function in (self.finalise, self.record_failure):
            allow_put_events(function, self)

        media_objects = arn_finding(storage.media, "/*")
        job_results = arn_finding(storage.media, "/*/jobs/*")
        table_indexes = arn_finding(table, "/index/*")
        acknowledge_function(
            self.probe,
            [
                arn_finding(storage.uploads, f"/{constants.UPLOAD_SOURCE_PATTERN}"),
                job_results,
                table_indexes,
            ],
        )
        acknowledge_function(self.finalise, [media_objects, table_indexes])
        acknowledge_function(self.record_failure, [media_objects, job_results, table_indexes])

    # --- The state machine, from the ASL file ----------------------------------------
    def _state_machine(self, table: dynamodb.Table) -> None:
        settings = self._settings
        stack = Stack.of(self)
        log_group = logs.LogGroup(
            self,
            "StateMachineLogs",
            # The vendedlogs prefix keeps CloudWatch's resource policy from growing.
            log_group_name=f"/aws/vendedlogs/states/{stack.stack_name}-pipeline",
            retention=settings.log_retention,
            removal_policy=RemovalPolicy.DESTROY,
        )
        subnets = self.vpc.public_subnets
        substitutions = {
            "VideosTableName": table.table_name,
            "ProbeFunctionArn": self.probe.function_arn,
            "FinaliseFunctionArn": self.finalise.function_arn,
            "RecordFailureFunctionArn": self.record_failure.function_arn,
            "DeadLetterQueueUrl": self.dead_letter_queue.queue_url,
            "ClusterArn": self.cluster.cluster_arn,
            "TaskDefinitionArn": self.task_definition.task_definition_arn,
            "ContainerName": constants.TRANSCODER_CONTAINER_NAME,
            "SubnetId1": subnets[0].subnet_id,
            "SubnetId2": subnets[1].subnet_id,
            "SecurityGroupId": self.security_group.security_group_id,
            # RunTask names its capacity, so the Spot fallback can switch it for one attempt.
            "CapacityProvider": "FARGATE_SPOT" if settings.fargate_spot else "FARGATE",
            "SpotFallback": "true" if settings.fargate_spot and settings.spot_fallback else "false",
        }
        assert tuple(substitutions) == constants.ASL_PLACEHOLDERS
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            definition_body=sfn.DefinitionBody.from_file(str(constants.STATE_MACHINE_ASL)),
            definition_substitutions=substitutions,
            state_machine_type=sfn.StateMachineType.STANDARD,
            logs=sfn.LogOptions(
                destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=True
            ),
            tracing_enabled=True,
        )

        # Exactly what the ASL does, nothing more.
        role = self.state_machine.role
        allow(role, ["dynamodb:UpdateItem"], [table.table_arn])  # Claim
        allow(
            role,
            ["lambda:InvokeFunction"],
            [f.function_arn for f in (self.probe, self.finalise, self.record_failure)],
        )
        # Any revision of the family: a deploy during processing registers a new revision,
        # and the running videos' later jobs still start the one their execution began with.
        task_definitions = stack.format_arn(
            service="ecs",
            resource="task-definition",
            resource_name=f"{self.task_definition.family}:*",
        )
        allow(role, ["ecs:RunTask"], [task_definitions])
        allow(
            role,
            ["ecs:StopTask", "ecs:DescribeTasks"],
            [
                stack.format_arn(
                    service="ecs",
                    resource="task",
                    resource_name=f"{self.cluster.cluster_name}/*",
                )
            ],
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[
                    self.task_definition.task_role.role_arn,
                    self.task_definition.obtain_execution_role().role_arn,
                ],
                conditions={"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
            )
        )
        allow(
            role,
            ["events:PutTargets", "events:PutRule", "events:DescribeRule"],
            [
                stack.format_arn(
                    service="events", resource="rule", resource_name=constants.ECS_SYNC_MANAGED_RULE
                )
            ],
        )
        allow(role, ["sqs:SendMessage"], [self.dead_letter_queue.queue_arn])
        acknowledge_xray(self.state_machine)
        acknowledge(
            self.state_machine,
            "AwsSolutions-IAM5",
            "runTask.sync stops and describes the tasks it started; their ids are not "
            "known in advance, so the grant is per cluster.",
            findings=[
                "Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:"
                f"task/<{logical_id(self.cluster)}>/*"
            ],
        )
        acknowledge(
            self.state_machine,
            "AwsSolutions-IAM5",
            "RunTask may start any revision of the transcoder's own task family, so a "
            "deploy does not fail the videos already processing.",
            findings=[
                "Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:"
                f"task-definition/{self.task_definition.family}:*"
            ],
        )

    # --- Object Created on the uploads bucket starts an execution --------------------
    def _trigger(self, storage: Storage) -> None:
        self.trigger = events.Rule(
            self,
            "SourceUploaded",
            description="A source landed in the uploads bucket: run the pipeline",
            event_pattern=events.EventPattern(
                source=["aws.s3"],
                detail_type=["Object Created"],
                detail={
                    "bucket": {"name": [storage.uploads.bucket_name]},
                    "object": {"key": events.Match.suffix(constants.UPLOAD_SOURCE_SUFFIX)},
                },
            ),
        )
        self.trigger.add_target(
            targets.SfnStateMachine(
                self.state_machine,
                dead_letter_queue=self.dead_letter_queue,
                retry_attempts=8,
                max_event_age=Duration.hours(6),
            )
        )
