from enum import StrEnum


class VideoStatus(StrEnum):
    PENDING_UPLOAD = "PENDING_UPLOAD"
    UPLOADED = "UPLOADED"
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    DELETED = "DELETED"


class Visibility(StrEnum):
    PRIVATE = "private"
    PUBLIC = "public"


class DownloadStatus(StrEnum):
    """The MP4 download's, made after the video is COMPLETED (lambdas/pipeline/download.py)."""

    PREPARING = "PREPARING"
    READY = "READY"
    FAILED = "FAILED"
