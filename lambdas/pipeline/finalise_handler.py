from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from lambdas.core.observability import logger, tracer
from lambdas.pipeline.clients import pipeline_adapters
from lambdas.pipeline.finalise import FinaliseRequest, finalise


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@event_parser(model=FinaliseRequest)
def lambda_handler(event: FinaliseRequest, context: LambdaContext) -> dict[str, Any]:
    settings, s3 = pipeline_adapters()
    logger.append_keys(video_id=event.video_id)
    record = finalise(s3, settings, event)
    logger.info("completed", extra={"renditions": [r.name for r in record.renditions]})
    return {"video_id": record.video_id, "status": record.status}
