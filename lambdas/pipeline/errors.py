"""Why a source is refused. Each class carries the code recorded on the video; the message
is written for the person who uploaded it. Step Functions sees the class name as the error."""


class MediaRejected(Exception):
    code = "MEDIA_REJECTED"


class NotAVideo(MediaRejected):
    code = "NOT_A_VIDEO"


class NoVideoStream(MediaRejected):
    code = "NO_VIDEO_STREAM"


class IncompleteFile(MediaRejected):
    code = "INCOMPLETE_FILE"


class UnusableVideo(MediaRejected):
    code = "UNUSABLE_VIDEO"


class SourceMissing(MediaRejected):
    code = "SOURCE_MISSING"


class SourceTooLarge(MediaRejected):
    code = "SOURCE_TOO_LARGE"


class SourceTimeout(MediaRejected):
    code = "SOURCE_TIMEOUT"


REJECTIONS: dict[str, type[MediaRejected]] = {
    cls.__name__: cls
    for cls in (
        MediaRejected,
        NotAVideo,
        NoVideoStream,
        IncompleteFile,
        UnusableVideo,
        SourceMissing,
        SourceTooLarge,
        SourceTimeout,
    )
}
