"""The HTTP API: one Lambda behind API Gateway, a JWT authorizer on the owner's routes."""

from __future__ import annotations

import json
from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from cdk import constants
from cdk.auth import Auth
from cdk.functions import python_function
from cdk.grants import acknowledge_function, allow
from cdk.nag import acknowledge, arn_finding
from cdk.settings import Settings
from cdk.storage import Storage

# Methods of the owner's routes. Not ANY: an ANY route would also catch the browser's
# CORS preflight (OPTIONS, sent without a token) and the JWT authorizer would refuse it.
# With no OPTIONS route, API Gateway answers preflights itself from the CORS settings.
OWNER_METHODS = (
    apigw.HttpMethod.GET,
    apigw.HttpMethod.POST,
    apigw.HttpMethod.PUT,
    apigw.HttpMethod.PATCH,
    apigw.HttpMethod.DELETE,
)
OWNER_PATHS = ("/videos", "/videos/{proxy+}")
PUBLIC_PATHS = ("/catalog", "/catalog/{proxy+}", "/openapi.json")

_ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "latencyMs": "$context.responseLatency",
    "integrationError": "$context.integrationErrorMessage",
    "authorizerError": "$context.authorizer.error",
    "user": "$context.authorizer.claims.sub",
}


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        settings: Settings,
        storage: Storage,
        table: dynamodb.Table,
        idempotency_table: dynamodb.Table,
        auth: Auth,
        state_machine: sfn.IStateMachine,
        cdn_domain: str,
        cdn_key_pair_id: str,
        cdn_private_key: secretsmanager.ISecret,
        web_origins: Sequence[str],
    ) -> None:
        super().__init__(scope, id)

        self.function = python_function(
            self,
            "Handler",
            settings=settings,
            service=constants.API_SERVICE,
            handler=constants.API_HANDLER,
            description="StreamForge HTTP API",
            memory_size=512,
            timeout=Duration.seconds(15),  # API Gateway gives up at 30 s
            environment={
                "VIDEOS_TABLE_NAME": table.table_name,
                "IDEMPOTENCY_TABLE_NAME": idempotency_table.table_name,
                "UPLOADS_BUCKET": storage.uploads.bucket_name,
                "MEDIA_BUCKET": storage.media.bucket_name,
                "MAX_UPLOAD_BYTES": str(settings.max_upload_bytes),
                "MAX_ACTIVE_VIDEOS_PER_USER": str(settings.max_active_videos_per_user),
                "STATE_MACHINE_ARN": state_machine.state_machine_arn,
                "CDN_DOMAIN": cdn_domain,
                "CDN_KEY_PAIR_ID": cdn_key_pair_id,
                "CDN_PRIVATE_KEY_SECRET_ARN": cdn_private_key.secret_arn,
            },
        )
        self._grant(storage, table, state_machine, cdn_private_key)
        # What Powertools' DynamoDB idempotency store does with its records.
        allow(
            self.function,
            ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
            [idempotency_table.table_arn],
        )

        self.http_api = apigw.HttpApi(
            self,
            "HttpApi",
            description="StreamForge",
            create_default_stage=False,
            cors_preflight=apigw.CorsPreflightOptions(
                allow_origins=list(web_origins),
                allow_methods=[apigw.CorsHttpMethod.ANY],
                allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
                max_age=Duration.hours(1),
            ),
        )
        self.stage = apigw.HttpStage(
            self,
            "DefaultStage",
            http_api=self.http_api,
            stage_name="$default",
            auto_deploy=True,
            throttle=apigw.ThrottleSettings(
                rate_limit=constants.API_RATE_LIMIT, burst_limit=constants.API_BURST_LIMIT
            ),
        )
        access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=settings.log_retention,
            removal_policy=RemovalPolicy.DESTROY,
        )
        cfn_stage = self.stage.node.default_child
        assert isinstance(cfn_stage, apigw.CfnStage)
        cfn_stage.access_log_settings = apigw.CfnStage.AccessLogSettingsProperty(
            destination_arn=access_logs.log_group_arn,
            format=json.dumps(_ACCESS_LOG_FORMAT),
        )
        self.url = self.http_api.api_endpoint

        integration = integrations.HttpLambdaIntegration("Lambda", self.function)
        for path in OWNER_PATHS:
            self.http_api.add_routes(
                path=path,
                methods=list(OWNER_METHODS),
                integration=integration,
                authorizer=auth.authorizer,
            )
        public_routes = [
            route
            for path in PUBLIC_PATHS
            for route in self.http_api.add_routes(
                path=path, methods=[apigw.HttpMethod.GET], integration=integration
            )
        ]
        acknowledge(
            public_routes,
            "AwsSolutions-APIG4",
            "The public catalog and the OpenAPI document are read without signing in.",
        )

    def _grant(
        self,
        storage: Storage,
        table: dynamodb.Table,
        state_machine: sfn.IStateMachine,
        cdn_private_key: secretsmanager.ISecret,
    ) -> None:
        function = self.function
        sources = storage.uploads.arn_for_objects(constants.UPLOAD_SOURCE_PATTERN)
        # Items and index queries; no table-level action (no DeleteTable, no UpdateTable).
        table.grant_read_write_data(function)
        # Presigned single and multipart uploads of `{videoId}/source`.
        allow(
            function,
            ["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
            [sources],
        )
        # Sources are written tagged pending; `complete` removes the tag, or deletes every
        # version of a source whose size is not the declared one.
        allow(
            function,
            ["s3:PutObjectTagging", "s3:DeleteObjectTagging", "s3:DeleteObjectVersion"],
            [sources],
        )
        allow(function, ["s3:ListBucketVersions"], [storage.uploads.bucket_arn])
        allow(function, ["s3:GetObject", "s3:DeleteObject"], [storage.uploads.arn_for_objects("*")])
        # Deleting a video lists and removes its source and media; listing also makes a
        # missing object a 404 (not a 403) when completing or reprocessing.
        allow(function, ["s3:ListBucket"], [storage.uploads.bucket_arn, storage.media.bucket_arn])
        allow(function, ["s3:DeleteObject"], [storage.media.arn_for_objects("*")])
        # Captions: presigned PUTs of `{videoId}/captions/{language}` (tagged pending), read
        # and deleted (every version) by `complete`; the WebVTT and its playlist written
        # under `hls/subs/`, and a COMPLETED video's two manifests rewritten.
        caption_uploads = storage.uploads.arn_for_objects(constants.UPLOAD_CAPTIONS_PATTERN)
        allow(
            function,
            ["s3:PutObject", "s3:PutObjectTagging", "s3:DeleteObjectVersion"],
            [caption_uploads],
        )
        manifests = [storage.media.arn_for_objects(p) for p in constants.MEDIA_MANIFEST_PATTERNS]
        caption_tracks = storage.media.arn_for_objects(constants.MEDIA_CAPTION_TRACKS_PATTERN)
        allow(function, ["s3:PutObject"], [caption_tracks, *manifests])
        allow(function, ["s3:GetObject"], manifests)
        state_machine.grant_start_execution(function)  # reprocess
        cdn_private_key.grant_read(function)  # signs media URLs
        acknowledge_function(
            function,
            [
                arn_finding(storage.uploads, f"/{constants.UPLOAD_SOURCE_PATTERN}"),
                arn_finding(storage.uploads, f"/{constants.UPLOAD_CAPTIONS_PATTERN}"),
                arn_finding(storage.media, f"/{constants.MEDIA_CAPTION_TRACKS_PATTERN}"),
                *(arn_finding(storage.media, f"/{p}") for p in constants.MEDIA_MANIFEST_PATTERNS),
                arn_finding(storage.uploads, "/*"),
                arn_finding(storage.media, "/*"),
                arn_finding(table, "/index/*"),
            ],
        )
