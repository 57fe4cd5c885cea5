"""Alarms on what needs a person (failed videos, API errors) and one dashboard."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

_PERIOD = Duration.minutes(5)


class Observability(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        state_machine: sfn.StateMachine,
        dead_letter_queue: sqs.IQueue,
        api_stage: apigw.HttpStage,
        functions: Sequence[lambda_.IFunction],
    ) -> None:
        super().__init__(scope, id)

        executions_failed = state_machine.metric_failed(period=_PERIOD, statistic="Sum")
        dlq_depth = dead_letter_queue.metric_approximate_number_of_messages_visible(
            period=_PERIOD, statistic="Maximum"
        )
        api_5xx = api_stage.metric_server_error(period=_PERIOD, statistic="Sum")

        self.alarms = [
            cloudwatch.Alarm(
                self,
                "ExecutionsFailed",
                alarm_description="A video failed in the pipeline: see its record and the DLQ.",
                metric=executions_failed,
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
            cloudwatch.Alarm(
                self,
                "DeadLetterQueueNotEmpty",
                alarm_description="Failed videos or undelivered upload events are waiting "
                "in the dead-letter queue.",
                metric=dlq_depth,
                threshold=0,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
            cloudwatch.Alarm(
                self,
                "Api5xx",
                alarm_description="The HTTP API answered with server errors.",
                metric=api_5xx,
                threshold=5,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
        ]

        self.dashboard = cloudwatch.Dashboard(self, "Dashboard")
        self.dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=self.alarms, width=24),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Pipeline executions",
                left=[
                    state_machine.metric_started(period=_PERIOD),
                    state_machine.metric_succeeded(period=_PERIOD),
                    executions_failed,
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Execution time",
                left=[state_machine.metric_time(period=_PERIOD, statistic="p90")],
                width=8,
            ),
            cloudwatch.GraphWidget(title="Dead-letter queue", left=[dlq_depth], width=8),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="API requests and errors",
                left=[
                    api_stage.metric_count(period=_PERIOD, statistic="Sum"),
                    api_stage.metric_client_error(period=_PERIOD, statistic="Sum"),
                    api_5xx,
                ],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="API latency (p90)",
                left=[api_stage.metric_latency(period=_PERIOD, statistic="p90")],
                width=12,
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Lambda errors",
                left=[fn.metric_errors(period=_PERIOD) for fn in functions],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Lambda duration (p90)",
                left=[fn.metric_duration(period=_PERIOD, statistic="p90") for fn in functions],
                width=12,
            ),
        )
