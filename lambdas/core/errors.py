"""Domain errors. The API maps each class to an HTTP status in one place."""


class DomainError(Exception):
    """Base for errors a caller can act on; the message is shown to them."""


class VideoNotFound(DomainError):
    def __init__(self, video_id: str) -> None:
        super().__init__(f"No video with id {video_id!r}")


class InvalidVideoState(DomainError):
    """The video is not in a state that allows the request (HTTP 409)."""


class UploadTooLarge(DomainError):
    def __init__(self, size_bytes: int, limit_bytes: int) -> None:
        super().__init__(
            f"sizeBytes: {size_bytes} bytes is over the upload limit of {limit_bytes} bytes"
        )
