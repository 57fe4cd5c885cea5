from typing import Any

from lambdas.core.cold_start import collection_paused

with collection_paused():
    from aws_lambda_powertools.utilities.parser import event_parser
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from lambdas.core import events, processing_log
    from lambdas.core.clock import utc_now_iso
    from lambdas.core.observability import capture_lambda_handler, logger
    from lambdas.core.status import DownloadStatus
    from lambdas.pipeline.clients import pipeline_adapters
    from lambdas.pipeline.finalise import (
        FinaliseRequest,
        finalise,
        make_video_download,
        publish_provisional,
    )


@logger.inject_lambda_context
@capture_lambda_handler
@event_parser(model=FinaliseRequest)
def lambda_handler(event: FinaliseRequest, context: LambdaContext) -> dict[str, Any]:
    settings, s3 = pipeline_adapters()
    logger.append_keys(video_id=event.video_id, stage=event.stage)
    execution_arn = event.execution_arn
    if event.stage == "provisional":
        with processing_log.stage(event.video_id, "playable", execution_arn=execution_arn) as notes:
            playable = publish_provisional(s3, settings, event)
            notes.append(
                f"playable early: {', '.join(r.name for r in playable.renditions)}"
                if playable
                else "no longer processing: nothing offered"
            )
        return {"video_id": event.video_id, "playable": playable is not None}
    if event.stage == "download":
        with processing_log.stage(event.video_id, "download", execution_arn=execution_arn) as notes:
            outcome = make_video_download(s3, settings, event)
            if outcome.record is None:
                notes.append(
                    "nothing to make: the video is no longer this run's, "
                    "or its download is already marked"
                )
            elif outcome.failure:
                notes.failed = True
                notes.append(f"MP4 download failed: {outcome.failure}")
            else:
                notes.append("MP4 download made")
        status = outcome.record.download_status if outcome.record else None
        return {"video_id": event.video_id, "download_status": status}
    jobs = [processing_log.JobRun(job.label, task_arn) for job, task_arn in event.runs()]
    processing_log.record_jobs(
        event.video_id, jobs, ended_at=utc_now_iso(), execution_arn=execution_arn
    )
    with processing_log.stage(event.video_id, "finalise", execution_arn=execution_arn) as notes:
        record = finalise(s3, settings, event)
        notes.append(f"published {', '.join(r.name for r in record.renditions)}")
        download_to_make = record.download_status == DownloadStatus.PREPARING
        if download_to_make:
            notes.append("MP4 download next")
    events.default_publisher().video_ready(record)
    logger.info("completed", extra={"renditions": [r.name for r in record.renditions]})
    return {
        "video_id": record.video_id,
        "status": record.status,
        # The state machine's MakeDownload runs when true
        "download_to_make": download_to_make,
    }
