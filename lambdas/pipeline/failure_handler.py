from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from lambdas.core.observability import logger, tracer
from lambdas.pipeline.clients import pipeline_adapters
from lambdas.pipeline.failure import FailureRequest, record_failure


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@event_parser(model=FailureRequest)
def lambda_handler(event: FailureRequest, context: LambdaContext) -> dict[str, Any]:
    settings, s3 = pipeline_adapters()
    logger.append_keys(video_id=event.video_id)
    failure = record_failure(s3, settings.media_bucket, event)
    logger.warning("video failed", extra={"code": failure.code, "reason": failure.message})
    return {"video_id": event.video_id, "code": failure.code, "message": failure.message}
