"""The videos table: one item per video (pk = video id, sk = "VIDEO") plus its indexes."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from cdk import constants


def _key(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


class Data(Construct):
    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        self.table = dynamodb.Table(
            self,
            "Videos",
            partition_key=_key(constants.TABLE_PARTITION_KEY),
            sort_key=_key(constants.TABLE_SORT_KEY),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            # Tombstones of deleted videos carry `expires_at` (epoch seconds).
            time_to_live_attribute="expires_at",
            removal_policy=RemovalPolicy.RETAIN,
        )
        # A user's own videos, newest first.
        self.table.add_global_secondary_index(
            index_name=constants.BY_OWNER_INDEX,
            partition_key=_key("owner_id"),
            sort_key=_key("created_at"),
            projection_type=dynamodb.ProjectionType.ALL,
        )
        # Published videos: only items carrying `catalog_partition` appear (sparse index).
        self.table.add_global_secondary_index(
            index_name=constants.PUBLIC_CATALOG_INDEX,
            partition_key=_key("catalog_partition"),
            sort_key=_key("created_at"),
            projection_type=dynamodb.ProjectionType.ALL,
        )
        # A user's UPLOADED and PROCESSING videos (sparse: only they carry `active_owner_id`),
        # which the limit on active videos counts.
        self.table.add_global_secondary_index(
            index_name=constants.ACTIVE_BY_OWNER_INDEX,
            partition_key=_key("active_owner_id"),
            projection_type=dynamodb.ProjectionType.INCLUDE,
            non_key_attributes=["status"],
        )

        # Powertools idempotency records (create-video with an Idempotency-Key): short-lived.
        self.idempotency_table = dynamodb.Table(
            self,
            "Idempotency",
            partition_key=_key("id"),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute="expiration",
            removal_policy=RemovalPolicy.DESTROY,
        )
