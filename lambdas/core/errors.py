"""Domain errors. The API maps each class to an HTTP status in one place
(lambdas/api/error_responses.py); `code` is the stable, machine-readable name clients see,
the message is for people."""

from __future__ import annotations


class DomainError(Exception):
    """Base for errors a caller can act on; the message is shown to them."""

    code = "ERROR"


class VideoNotFound(DomainError):
    code = "NOT_FOUND"

    def __init__(self, video_id: str) -> None:
        super().__init__(f"No video with id {video_id!r}")


class InvalidVideoState(DomainError):
    """The video is not in a state that allows the request (HTTP 409)."""

    code = "INVALID_STATE"


class UploadAlreadyCompleted(InvalidVideoState):
    code = "UPLOAD_ALREADY_COMPLETED"


class UploadNotFinished(InvalidVideoState):
    """Completing before the source is all there (no object, or no multipart upload)."""

    code = "UPLOAD_NOT_FINISHED"


class NoMultipartUpload(InvalidVideoState):
    code = "NO_MULTIPART_UPLOAD"


class VideoBusy(InvalidVideoState):
    code = "VIDEO_PROCESSING"


class SourceGone(InvalidVideoState):
    code = "SOURCE_MISSING"


class ConcurrentChange(InvalidVideoState):
    """Someone else changed the video at the same moment, again and again."""

    code = "CONCURRENT_CHANGE"


class FieldError(DomainError):
    """A request field is valid on its own but not for this video (HTTP 400)."""

    code = "INVALID_REQUEST"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.detail = message


class UploadTooLarge(DomainError):
    code = "TOO_LARGE"

    def __init__(self, size_bytes: int, limit_bytes: int) -> None:
        super().__init__(
            f"sizeBytes: {size_bytes} bytes is over the upload limit of {limit_bytes} bytes"
        )
        self.field = "sizeBytes"


class ServiceUnavailable(DomainError):
    """A service the request depends on refused or failed; retrying later may work."""

    code = "SERVICE_UNAVAILABLE"


class UploadSizeMismatch(DomainError):
    """The stored source is not the size the video declared (HTTP 422). By the time this is
    raised the source has been deleted and the video marked FAILED."""

    code = "UPLOAD_SIZE_MISMATCH"

    def __init__(self, video_id: str, *, declared: int, stored: int) -> None:
        super().__init__(
            f"the source uploaded for video {video_id} is {stored} bytes, but {declared} bytes "
            "were declared; it has been deleted. Create the video again with the file's exact "
            "size (sizeBytes) and upload that same file."
        )
        self.declared = declared
        self.stored = stored


class TooManyActiveVideos(DomainError):
    """The caller already has the most videos in processing at once a user may (HTTP 429)."""

    code = "TOO_MANY_ACTIVE_VIDEOS"

    def __init__(self, active: int, limit: int, retry_after_seconds: int) -> None:
        super().__init__(
            f"you have {active} videos being processed, and at most {limit} may be at once: "
            "start this one when one of them has finished"
        )
        self.retry_after_seconds = retry_after_seconds


class CaptionNotFound(DomainError):
    code = "NOT_FOUND"

    def __init__(self, video_id: str, language: str) -> None:
        super().__init__(f"video {video_id!r} has no {language!r} captions")


class CaptionInvalid(DomainError):
    """An uploaded caption file that cannot be published (HTTP 422); `line` is where."""

    code = "INVALID_CAPTIONS"

    def __init__(self, message: str, *, line: int | None = None) -> None:
        super().__init__(f"line {line}: {message}" if line else message)
        self.field = "file"
        self.line = line
