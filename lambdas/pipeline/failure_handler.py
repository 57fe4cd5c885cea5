from typing import Any

from lambdas.core.cold_start import collection_paused

with collection_paused():
    from aws_lambda_powertools.utilities.parser import event_parser
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from lambdas.core import events, processing_log, videos
    from lambdas.core.observability import capture_lambda_handler, logger
    from lambdas.core.status import VideoStatus
    from lambdas.pipeline.clients import pipeline_adapters
    from lambdas.pipeline.failure import FailureRequest, record_failure


@logger.inject_lambda_context
@capture_lambda_handler
@event_parser(model=FailureRequest)
def lambda_handler(event: FailureRequest, context: LambdaContext) -> dict[str, Any]:
    settings, s3 = pipeline_adapters()
    logger.append_keys(video_id=event.video_id)
    failure = record_failure(s3, settings.media_bucket, event)
    logger.warning("video failed", extra={"code": failure.code, "reason": failure.message})
    record = videos.get_video(event.video_id)
    if record.status == VideoStatus.FAILED:  # not when it had finished or was deleted meanwhile
        processing_log.record_failure(
            event.video_id, failure.code, failure.message, event.execution_arn or None
        )
        events.default_publisher().video_failed(record)
    return {"video_id": event.video_id, "code": failure.code, "message": failure.message}
