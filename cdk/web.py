"""The built web app, copied to its bucket with a `config.json` made from this stack."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from aws_cdk import Annotations, RemovalPolicy
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from cdk import constants
from cdk.nag import acknowledge, logical_id
from cdk.settings import Settings


class WebApp(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        settings: Settings,
        dist_dir: Path,
        bucket: s3.IBucket,
        distribution: cloudfront.IDistribution,
        config: Mapping[str, object],
    ) -> None:
        """`config`: what the app reads at start-up; values may be deploy-time tokens."""
        super().__init__(scope, id)
        self.config = dict(config)
        self.deployment: s3deploy.BucketDeployment | None = None
        if not (dist_dir / "index.html").is_file():
            Annotations.of(self).add_warning_v2(
                "streamforge:webDist",
                f"{dist_dir} has no index.html: the web app is not deployed. Build it "
                "(npm run build in web/) and deploy again.",
            )
            return

        self.deployment = s3deploy.BucketDeployment(
            self,
            "Deploy",
            destination_bucket=bucket,
            sources=[
                # A config.json left by a local build would point at local endpoints.
                s3deploy.Source.asset(str(dist_dir), exclude=[constants.WEB_CONFIG_FILE]),
                # Resolved at deploy time: the API URL and the Cognito ids are tokens.
                s3deploy.Source.json_data(constants.WEB_CONFIG_FILE, self.config),
            ],
            distribution=distribution,
            distribution_paths=["/*"],
            memory_limit=512,
            log_group=logs.LogGroup(
                self,
                "DeployLogs",
                retention=settings.log_retention,
                removal_policy=RemovalPolicy.DESTROY,
            ),
        )
        # The copying Lambda is CDK's own singleton; its grants and runtime are CDK's.
        handler = self.deployment.handler_role.node.scope
        assert handler is not None
        acknowledge(
            handler,
            "AwsSolutions-IAM4",
            "CDK's BucketDeployment handler logs with the basic execution role.",
            findings=[
                "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AWSLambdaBasicExecutionRole"
            ],
        )
        acknowledge(
            handler,
            "AwsSolutions-IAM5",
            "CDK's BucketDeployment handler copies the build from the CDK asset bucket and "
            "replaces the web bucket's objects; these are the grants CDK gives it.",
            findings=[
                "Action::s3:GetBucket*",
                "Action::s3:GetObject*",
                "Action::s3:List*",
                "Action::s3:Abort*",
                "Action::s3:DeleteObject*",
                "Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-"
                "<AWS::Region>/*",
                f"Resource::<{logical_id(bucket)}.Arn>/*",
                "Resource::*",  # cloudfront:CreateInvalidation has no resource-level scope
            ],
        )
        acknowledge(
            handler,
            "AwsSolutions-L1",
            "CDK's BucketDeployment handler runtime moves with aws-cdk-lib.",
        )
