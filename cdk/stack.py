"""The StreamForge stack: composes the constructs, one per concern, and names the outputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import Aws, CfnOutput, Stack
from constructs import Construct

from cdk.api import Api
from cdk.auth import Auth
from cdk.data import Data
from cdk.delivery import Delivery
from cdk.observability import Observability
from cdk.pipeline import Pipeline
from cdk.settings import Settings
from cdk.storage import Storage
from cdk.web import WebApp


class StreamForgeStack(Stack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        settings: Settings,
        web_dist_dir: Path,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        self.settings = settings

        self.storage = Storage(self, "Storage", settings=settings)
        self.data = Data(self, "Data")
        self.delivery = Delivery(self, "Delivery", settings=settings, storage=self.storage)
        self.storage.allow_browser_uploads(self.delivery.web_origins)
        self.auth = Auth(self, "Auth", settings=settings, app_urls=self.delivery.web_origins)
        self.pipeline = Pipeline(
            self, "Pipeline", settings=settings, storage=self.storage, table=self.data.table
        )
        self.api = Api(
            self,
            "Api",
            settings=settings,
            storage=self.storage,
            table=self.data.table,
            idempotency_table=self.data.idempotency_table,
            auth=self.auth,
            state_machine=self.pipeline.state_machine,
            cdn_domain=self.delivery.media_distribution.distribution_domain_name,
            cdn_key_pair_id=self.delivery.public_key.public_key_id,
            cdn_private_key=self.delivery.private_key_secret,
            web_origins=self.delivery.web_origins,
        )
        self.web = WebApp(
            self,
            "WebApp",
            settings=settings,
            dist_dir=web_dist_dir,
            bucket=self.storage.web,
            distribution=self.delivery.web_distribution,
            config={
                "apiUrl": self.api.url,
                "region": Aws.REGION,
                "userPoolId": self.auth.user_pool.user_pool_id,
                "userPoolClientId": self.auth.client.user_pool_client_id,
                "authUrl": self.auth.hosted_ui_url,
                "maxUploadBytes": settings.max_upload_bytes,
            },
        )
        self.observability = Observability(
            self,
            "Observability",
            state_machine=self.pipeline.state_machine,
            dead_letter_queue=self.pipeline.dead_letter_queue,
            api_stage=self.api.stage,
            functions=[
                self.api.function,
                self.pipeline.probe,
                self.pipeline.finalise,
                self.pipeline.record_failure,
            ],
        )

        outputs = {
            "ApiUrl": self.api.url,
            "WebUrl": self.delivery.web_url,
            "MediaCdnDomain": self.delivery.media_distribution.distribution_domain_name,
            "UserPoolId": self.auth.user_pool.user_pool_id,
            "UserPoolClientId": self.auth.client.user_pool_client_id,
            "HostedUiUrl": self.auth.hosted_ui_url,
            "StateMachineArn": self.pipeline.state_machine.state_machine_arn,
            "DeadLetterQueueUrl": self.pipeline.dead_letter_queue.queue_url,
            "UploadsBucketName": self.storage.uploads.bucket_name,
            "CdnPrivateKeySecretArn": self.delivery.private_key_secret.secret_arn,
        }
        for name, value in outputs.items():
            CfnOutput(self, name, value=value)
