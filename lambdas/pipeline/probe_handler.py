from typing import Any

from lambdas.core.cold_start import collection_paused

with collection_paused():
    from aws_lambda_powertools.utilities.parser import event_parser
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from lambdas.core import processing_log, videos
    from lambdas.core.observability import capture_lambda_handler, logger
    from lambdas.pipeline.clients import pipeline_adapters
    from lambdas.pipeline.kept import kept_jobs
    from lambdas.pipeline.probe import ProbeRequest, plan_jobs, probe_source


@logger.inject_lambda_context
@capture_lambda_handler
@event_parser(model=ProbeRequest)
def lambda_handler(event: ProbeRequest, context: LambdaContext) -> dict[str, Any]:
    settings, s3 = pipeline_adapters()
    logger.append_keys(video_id=event.video_id)
    execution_arn = event.execution_arn
    processing_log.record_claim(event.video_id, execution_arn, event.claimed_at)
    with processing_log.stage(event.video_id, "probe", execution_arn=execution_arn) as notes:
        source = probe_source(s3, settings, event)
        videos.record_source_facts(
            event.video_id,
            duration_seconds=source.duration_seconds,
            width=source.display_width,
            height=source.display_height,
        )
        plan = plan_jobs(event, source, settings)
        notes.append(f"planned {', '.join(job.name for job in plan.jobs)}")
        plan.kept = kept_jobs(s3, settings.media_bucket, event.video_id, plan.jobs)
        if plan.kept:  # a reprocess: what the failed run finished stays
            notes.append(f"kept {', '.join(job.label for job in plan.kept)} from an earlier run")
    logger.info("planned", extra={"jobs": [job.name for job in plan.jobs]})
    return plan.model_dump(mode="json")
