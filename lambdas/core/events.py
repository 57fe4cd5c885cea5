"""Events for integrators: `VideoReady` when a video reaches COMPLETED, `VideoFailed` when it
reaches FAILED, on EventBridge with source "streamforge". Delivery is at least once (a
retried step may publish again): `detail.version` and `detail.executionArn` tell repeats
apart."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import TYPE_CHECKING, Any, cast

from botocore.session import get_session

from lambdas.core.models import VideoRecord
from lambdas.core.observability import logger
from lambdas.core.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient

SOURCE = "streamforge"
VIDEO_READY = "VideoReady"
VIDEO_FAILED = "VideoFailed"


def video_event_detail(record: VideoRecord) -> dict[str, Any]:
    return {
        "videoId": record.video_id,
        "ownerId": record.owner_id,
        "status": record.status,
        "title": record.title,
        "visibility": record.visibility,
        "durationSeconds": record.duration_seconds,
        "renditions": [r.name for r in record.renditions],
        "errorCode": record.error_code,
        "errorMessage": record.error_message,
        "executionArn": record.execution_arn,
        "processedAt": record.processed_at,
        "updatedAt": record.updated_at,
        "version": record.version,
    }


class VideoEventPublisher:
    def __init__(self, client: EventBridgeClient, bus_name: str = "default") -> None:
        self._client = client
        self._bus_name = bus_name

    def video_ready(self, record: VideoRecord) -> bool:
        return self.publish(VIDEO_READY, record)

    def video_failed(self, record: VideoRecord) -> bool:
        return self.publish(VIDEO_FAILED, record)

    def publish(self, detail_type: str, record: VideoRecord) -> bool:
        """Best effort: the video's state is already recorded, and a lost notification must
        not turn a finished run into a failed one. A failure is logged as an error."""
        entry = {
            "Source": SOURCE,
            "DetailType": detail_type,
            "Detail": json.dumps(video_event_detail(record), default=str),
            "EventBusName": self._bus_name,
            "Resources": [record.execution_arn] if record.execution_arn else [],
        }
        try:
            response = self._client.put_events(Entries=[entry])  # type: ignore[list-item]
        except Exception:
            logger.exception("could not publish %s", detail_type, extra={"video_id": record.pk})
            return False
        if response.get("FailedEntryCount"):
            logger.error(
                "EventBridge refused %s",
                detail_type,
                extra={"video_id": record.pk, "entries": response.get("Entries")},
            )
            return False
        return True


@lru_cache(maxsize=1)
def default_publisher() -> VideoEventPublisher:
    """The publisher of the running function, built on first use (never at import)."""
    client = get_session().create_client("events")  # botocore's: boto3 is not imported
    return VideoEventPublisher(cast("EventBridgeClient", client), get_settings().event_bus_name)
