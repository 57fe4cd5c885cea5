"""The buckets: uploads (sources), media (published streams), web (the static app), logs."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cdk import constants
from cdk.nag import acknowledge
from cdk.settings import Settings


class Storage(Construct):
    def __init__(self, scope: Construct, id: str, *, settings: Settings) -> None:
        super().__init__(scope, id)

        # Access logs of the other buckets and of both CloudFront distributions. CloudFront
        # standard logging writes with ACLs, hence OBJECT_WRITER.
        self.logs = s3.Bucket(
            self,
            "Logs",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.OBJECT_WRITER,
            lifecycle_rules=[
                s3.LifecycleRule(expiration=Duration.days(settings.log_retention_days))
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(
            self.logs,
            "AwsSolutions-S1",
            "This is the access-log bucket; logging it into itself would loop.",
        )

        unfinished = Duration.days(settings.unfinished_upload_days)
        tag_key, tag_value = constants.PENDING_UPLOAD_TAG
        source_rules = [
            s3.LifecycleRule(abort_incomplete_multipart_upload_after=unfinished),
            # A source still tagged pending was never confirmed by `complete` (which checks
            # its size and removes the tag); the noncurrent rule below then removes its bytes.
            s3.LifecycleRule(expiration=unfinished, tag_filters={tag_key: tag_value}),
            # Versioning guards the originals against overwrites; old versions go soon.
            s3.LifecycleRule(noncurrent_version_expiration=Duration.days(7)),
        ]
        if settings.source_expiry_days is not None:
            source_rules.append(
                s3.LifecycleRule(expiration=Duration.days(settings.source_expiry_days))
            )
        self.uploads = self._bucket(
            "Uploads",
            versioned=True,
            lifecycle_rules=source_rules,
            removal_policy=RemovalPolicy.RETAIN,
        )
        # Object Created events go to EventBridge and start the pipeline. Set on the
        # resource itself: the L2 flag would add a custom-resource Lambda to do the same.
        uploads_resource = self.uploads.node.default_child
        assert isinstance(uploads_resource, s3.CfnBucket)
        uploads_resource.notification_configuration = (
            s3.CfnBucket.NotificationConfigurationProperty(
                event_bridge_configuration=s3.CfnBucket.EventBridgeConfigurationProperty(
                    event_bridge_enabled=True
                )
            )
        )
        # Derived from the sources, so no versioning: a reprocess overwrites in place.
        self.media = self._bucket("Media", removal_policy=RemovalPolicy.RETAIN)
        # Rebuilt by every deploy of the web app.
        self.web = self._bucket(
            "Web", removal_policy=RemovalPolicy.DESTROY, auto_delete_objects=True
        )

    def allow_browser_uploads(self, origins: Sequence[str]) -> None:
        """Browsers PUT parts straight to S3 with presigned URLs; Uppy reads each part's ETag."""
        self.uploads.add_cors_rule(
            allowed_methods=[
                s3.HttpMethods.PUT,
                s3.HttpMethods.POST,
                s3.HttpMethods.GET,
                s3.HttpMethods.HEAD,
            ],
            allowed_origins=list(origins),
            allowed_headers=["*"],
            exposed_headers=["ETag"],
            max_age=3600,
        )

    def _bucket(
        self,
        id: str,
        *,
        removal_policy: RemovalPolicy,
        versioned: bool = False,
        auto_delete_objects: bool = False,
        lifecycle_rules: Sequence[s3.LifecycleRule] | None = None,
    ) -> s3.Bucket:
        return s3.Bucket(
            self,
            id,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.logs,
            server_access_logs_prefix=f"s3/{id.lower()}/",
            versioned=versioned,
            lifecycle_rules=lifecycle_rules,
            removal_policy=removal_policy,
            auto_delete_objects=auto_delete_objects,
        )
