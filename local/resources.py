"""Creates, in moto, the same resources cdk/ deploys, and the state machine from the ASL file."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from cdk.constants import (
    API_HANDLER,
    API_SERVICE,
    FINALISE_HANDLER,
    FINALISE_SERVICE,
    METRICS_NAMESPACE,
    PROBE_HANDLER,
    PROBE_SERVICE,
    RECORD_FAILURE_HANDLER,
    RECORD_FAILURE_SERVICE,
    UPLOAD_SOURCE_SUFFIX,
)
from lambdas.core.events import SOURCE as EVENT_SOURCE
from lambdas.core.models import VideoRecord, use_table
from lambdas.core.settings import ApiSettings, loudness_setting
from local.config import (
    ACCESS_KEY_ID,
    ACCOUNT,
    ASL_PATH,
    REGION,
    SECRET_ACCESS_KEY,
    OfflineConfig,
)

LAMBDA_HANDLERS = {  # the handlers CDK deploys, by the function's attribute in Names
    "api_function": API_HANDLER,
    "probe_function": PROBE_HANDLER,
    "finalise_function": FINALISE_HANDLER,
    "record_failure_function": RECORD_FAILURE_HANDLER,
}


@dataclass(frozen=True)
class Deployed:
    dead_letter_queue_url: str
    upload_events_queue_url: str
    video_events_queue_url: str
    state_machine_arn: str
    cdn_private_key_secret_arn: str
    function_arns: dict[str, str]


# Set offline only: telemetry switched off, the CDN emulator's plain HTTP, and the job
# timeout floor the tests shorten. Every other variable of a function is one CDK sets on it
# (tests/infrastructure/test_offline_environment.py compares them, function by function).
OFFLINE_ONLY_VARIABLES = frozenset(
    {"POWERTOOLS_TRACE_DISABLED", "POWERTOOLS_METRICS_DISABLED", "CDN_SCHEME"}
    | {"JOB_TIMEOUT_MIN_SECONDS"}
)
FUNCTION_SERVICES = {  # function (an attribute of Names) -> its Powertools service, as in CDK
    "api_function": API_SERVICE,
    "probe_function": PROBE_SERVICE,
    "finalise_function": FINALISE_SERVICE,
    "record_failure_function": RECORD_FAILURE_SERVICE,
}


def _default(name: str) -> str:
    """A setting CDK passes with its deploy default, which the functions' own default equals."""
    default = ApiSettings.model_fields[name].default
    return str(default).lower() if isinstance(default, bool) else str(default)


def function_environments(config: OfflineConfig) -> dict[str, dict[str, str]]:
    """Each function's environment as CDK sets it (cdk/functions.py, cdk/pipeline.py,
    cdk/api.py) with local values, by the function's attribute in Names. The API's
    deployment-time values come later (`api_environment`)."""
    names = config.names
    stores = {
        "VIDEOS_TABLE_NAME": names.table,
        "UPLOADS_BUCKET": names.uploads_bucket,
        "MEDIA_BUCKET": names.media_bucket,
    }

    def function(attribute: str, variables: dict[str, str]) -> dict[str, str]:
        return {
            "POWERTOOLS_SERVICE_NAME": FUNCTION_SERVICES[attribute],
            "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "LOG_LEVEL": "INFO",
            **stores,
            **variables,
        }

    return {
        "probe_function": function(
            "probe_function",
            {
                "MAX_UPLOAD_BYTES": _default("max_upload_bytes"),
                "X264_PRESET": config.x264_preset,
                "MAX_PARALLEL_JOBS": str(config.max_parallel_jobs),
                "JOB_STRATEGY": config.job_strategy,
                "CHUNK_SECONDS": str(config.chunk_seconds),
                "LADDER_MAX_HEIGHT": _default("ladder_max_height"),
                "HEVC_LADDER": _default("hevc_ladder"),
                "AV1_LADDER": str(config.av1_ladder).lower(),
                "NATIVE_TOP_RUNG": _default("native_top_rung"),
                "LOUDNESS_TARGET_LUFS": loudness_setting(config.loudness_target_lufs),
                "JOB_TIMEOUT_MIN_SECONDS": str(config.job_timeout_min_seconds),
            },
        ),
        "finalise_function": function(
            "finalise_function", {"DOWNLOAD_MAX_HEIGHT": _default("download_max_height")}
        ),
        "record_failure_function": function("record_failure_function", {}),
        "api_function": function(
            "api_function",
            {
                "IDEMPOTENCY_TABLE_NAME": names.idempotency_table,
                "MAX_UPLOAD_BYTES": _default("max_upload_bytes"),
                "MAX_ACTIVE_VIDEOS_PER_USER": _default("max_active_videos_per_user"),
                "CDN_KEY_PAIR_ID": config.cdn_key_pair_id,
                "CDN_SCHEME": "http",  # the emulator speaks plain HTTP on loopback
            },
        ),
    }


def in_process_environment(config: OfflineConfig) -> dict[str, str]:
    """What the in-process handlers share (one process, one `os.environ`): every pipeline
    function's variables. Each function's own environment is still checked on its first
    invocation (local/engine_hooks.py), so one that CDK would start without a variable it
    needs fails offline too."""
    shared: dict[str, str] = {}
    for attribute, variables in function_environments(config).items():
        if attribute != "api_function":  # the API runs in worker processes of its own
            shared |= variables
    return {**shared, "POWERTOOLS_SERVICE_NAME": "streamforge"}


def api_environment(deployed: Deployed, cdn_domain: str) -> dict[str, str]:
    """The API's settings that exist only once the stack is deployed."""
    return {
        "STATE_MACHINE_ARN": deployed.state_machine_arn,
        "CDN_DOMAIN": cdn_domain,
        "CDN_PRIVATE_KEY_SECRET_ARN": deployed.cdn_private_key_secret_arn,
    }


def load_definition(substitutions: dict[str, str], path: Path = ASL_PATH) -> str:
    """The very file CDK deploys, with the same ${Placeholders} filled with local values."""
    text = path.read_text()
    for name, value in substitutions.items():
        text = text.replace("${" + name + "}", value)
    if "${" in text:
        start = text.index("${")
        raise ValueError(f"unfilled placeholder in {path.name}: {text[start : start + 40]}")
    json.loads(text)
    return text


def _empty_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README", "handlers run in-process from lambdas/")
    return buffer.getvalue()


def upload_rule_pattern(uploads_bucket: str) -> dict[str, Any]:
    """The rule that starts the pipeline, as cdk/pipeline.py declares it (a test compares the
    two): a source landing in the uploads bucket."""
    return {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {
            "bucket": {"name": [uploads_bucket]},
            "object": {"key": [{"suffix": UPLOAD_SOURCE_SUFFIX}]},
        },
    }


def deploy(
    session: boto3.Session,
    endpoint_url: str,
    config: OfflineConfig,
    *,
    s3_endpoint_url: str,
    cdn_domain: str,
    cdn_private_key_pem: str,
) -> Deployed:
    names = config.names

    def client(service: str) -> Any:
        endpoint = s3_endpoint_url if service == "s3" else endpoint_url
        return session.client(service, endpoint_url=endpoint, region_name=REGION)  # type: ignore[call-overload]

    s3, sqs, events = client("s3"), client("sqs"), client("events")
    for bucket in (names.uploads_bucket, names.media_bucket):
        s3.create_bucket(Bucket=bucket)
    # Versioned, as on AWS (cdk/storage.py): a rejected source must lose every version.
    s3.put_bucket_versioning(
        Bucket=names.uploads_bucket, VersioningConfiguration={"Status": "Enabled"}
    )
    s3.put_bucket_cors(
        Bucket=names.uploads_bucket,
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedMethods": ["PUT", "GET", "HEAD"],
                    "AllowedOrigins": ["*"],  # offline only: the web app runs on a random port
                    "AllowedHeaders": ["*"],
                    "ExposeHeaders": ["ETag"],
                }
            ]
        },
    )
    s3.put_bucket_notification_configuration(
        Bucket=names.uploads_bucket,
        NotificationConfiguration={"EventBridgeConfiguration": {}},
    )

    use_table(names.table, REGION)
    if not VideoRecord.exists():
        VideoRecord.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
    _create_idempotency_table(client("dynamodb"), names.idempotency_table)
    secret_arn = client("secretsmanager").create_secret(
        Name=names.cdn_private_key_secret, SecretString=cdn_private_key_pem
    )["ARN"]

    dlq_url = sqs.create_queue(QueueName=names.dead_letter_queue)["QueueUrl"]
    events_url = sqs.create_queue(QueueName=names.upload_events_queue)["QueueUrl"]
    events_arn = sqs.get_queue_attributes(QueueUrl=events_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    # On AWS the rule targets the state machine; moto does not start executions from a rule,
    # so offline it targets a queue that local/upload_events.py turns into executions.
    events.put_rule(
        Name=names.upload_rule,
        EventPattern=json.dumps(upload_rule_pattern(names.uploads_bucket)),
    )
    events.put_targets(Rule=names.upload_rule, Targets=[{"Id": "pipeline", "Arn": events_arn}])
    video_events_url = _video_events_queue(
        sqs, events, rule=names.video_events_rule, queue=names.video_events_queue
    )

    role_arn = client("iam").create_role(
        RoleName="streamforge-local",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]

    lambda_client = client("lambda")
    environments = function_environments(config)
    function_arns = {}
    for attribute, handler in LAMBDA_HANDLERS.items():
        name = getattr(names, attribute)
        function_arns[attribute] = lambda_client.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role_arn,
            Handler=handler,
            Code={"ZipFile": _empty_zip()},
            Timeout=900,
            MemorySize=1024,
            Environment={"Variables": environments[attribute]},
        )["FunctionArn"]

    ec2 = client("ec2")
    vpc_id = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    # as CDK's VPC does; moto's awsvpc tasks also need it for their network interface
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})
    subnet_ids = [
        ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.42.{index}.0/24")["Subnet"]["SubnetId"]
        for index in (1, 2)
    ]
    security_group_id = ec2.create_security_group(
        GroupName="streamforge-transcoder", Description="no ingress", VpcId=vpc_id
    )["GroupId"]

    ecs = client("ecs")
    cluster_arn = ecs.create_cluster(clusterName=names.cluster)["cluster"]["clusterArn"]
    task_definition_arn = ecs.register_task_definition(
        family=names.task_family,
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu="2048",
        memory="4096",
        containerDefinitions=[
            {
                "name": names.container,
                "image": "streamforge-transcoder:local",
                "essential": True,
                "cpu": 2048,
                "memory": 4096,
                "entryPoint": list(config.transcoder_entrypoint),
                "environment": [
                    {"name": "UPLOADS_BUCKET", "value": names.uploads_bucket},
                    {"name": "MEDIA_BUCKET", "value": names.media_bucket},
                    # offline the "task role" is moto's test credentials at the local endpoint;
                    # S3 (and the source URL the transcoder presigns for FFmpeg) via the front
                    {"name": "AWS_ENDPOINT_URL", "value": endpoint_url},
                    {"name": "AWS_ENDPOINT_URL_S3", "value": s3_endpoint_url},
                    {"name": "AWS_ACCESS_KEY_ID", "value": ACCESS_KEY_ID},
                    {"name": "AWS_SECRET_ACCESS_KEY", "value": SECRET_ACCESS_KEY},
                    {"name": "AWS_DEFAULT_REGION", "value": REGION},
                    {"name": "AWS_REGION", "value": REGION},
                ],
            }
        ],
    )["taskDefinition"]["taskDefinitionArn"]

    definition = load_definition(
        {
            "VideosTableName": names.table,
            "ProbeFunctionArn": function_arns["probe_function"],
            "FinaliseFunctionArn": function_arns["finalise_function"],
            "RecordFailureFunctionArn": function_arns["record_failure_function"],
            "DeadLetterQueueUrl": dlq_url,
            "ClusterArn": cluster_arn,
            "TaskDefinitionArn": task_definition_arn,
            "ContainerName": names.container,
            "SubnetId1": subnet_ids[0],
            "SubnetId2": subnet_ids[1],
            "SecurityGroupId": security_group_id,
            "CapacityProvider": "FARGATE_SPOT" if config.fargate_spot else "FARGATE",
            "SpotFallback": "true" if config.spot_fallback else "false",
        }
    )
    state_machine_arn = client("stepfunctions").create_state_machine(
        name=names.state_machine,
        definition=definition,
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/streamforge-local",
    )["stateMachineArn"]
    deployed = Deployed(
        dead_letter_queue_url=dlq_url,
        upload_events_queue_url=events_url,
        video_events_queue_url=video_events_url,
        state_machine_arn=state_machine_arn,
        cdn_private_key_secret_arn=secret_arn,
        function_arns=function_arns,
    )
    # As in CDK, only the API function knows the state machine and the CDN.
    lambda_client.update_function_configuration(
        FunctionName=names.api_function,
        Environment={
            "Variables": {
                **environments["api_function"],
                **api_environment(deployed, cdn_domain),
            }
        },
    )
    return deployed


def _create_idempotency_table(dynamodb: Any, name: str) -> None:
    """The Powertools idempotency store: `id` hash key, TTL on `expiration`."""
    dynamodb.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.update_time_to_live(
        TableName=name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiration"},
    )


def _video_events_queue(sqs: Any, events: Any, *, rule: str, queue: str) -> str:
    """VideoReady / VideoFailed land in a queue that tests and people can read."""
    url: str = sqs.create_queue(QueueName=queue)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(Name=rule, EventPattern=json.dumps({"source": [EVENT_SOURCE]}))
    events.put_targets(Rule=rule, Targets=[{"Id": "video-events", "Arn": arn}])
    return url
