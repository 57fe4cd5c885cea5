"""The HTTP API: thin routes over the video lifecycle functions in lambdas/core.

Routes under /videos are the signed-in owner's (the JWT authorizer has checked the token);
/catalog and /openapi.json are public. Domain errors become HTTP responses in one place, at
the end of this module.
"""

from __future__ import annotations

import json
from functools import lru_cache
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError, UnauthorizedError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.utilities.idempotency import idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from lambdas.api.bodies import read_json_bodies_only
from lambdas.api.dependencies import ApiDependencies, get_dependencies
from lambdas.api.schemas import (
    AuthorizerError,
    CaptionBody,
    CaptionListResponse,
    CaptionUploadResponse,
    CatalogResponse,
    CompleteUploadRequest,
    CompleteUploadResponse,
    CreateCaptionRequest,
    CreateVideoRequest,
    CreateVideoResponse,
    ErrorResponse,
    PartBody,
    PlaybackBody,
    PublicVideoBody,
    PublicVideoDetail,
    ReprocessResponse,
    SignedPartResponse,
    SingleUploadBody,
    StartUploadRequest,
    StartUploadResponse,
    UpdateVideoRequest,
    VideoBody,
    VideoDetail,
    VideoListResponse,
    upload_body,
)
from lambdas.core import captions, lifecycle, uploads, videos
from lambdas.core.errors import (
    CaptionInvalid,
    CaptionNotFound,
    DomainError,
    FieldError,
    InvalidVideoState,
    ServiceUnavailable,
    TooManyActiveVideos,
    UploadSizeMismatch,
    UploadTooLarge,
    VideoNotFound,
)
from lambdas.core.models import VideoRecord
from lambdas.core.observability import logger
from lambdas.core.settings import S3_MAX_PARTS
from lambdas.core.status import VideoStatus
from lambdas.pipeline import subtitles

app = APIGatewayHttpResolver(enable_validation=True)
read_json_bodies_only(app)
app.configure_openapi(
    title="StreamForge API",
    version="1.0.0",
    description="Upload videos, follow their processing, and play them back through signed, "
    "short-lived CDN URLs. Routes under /videos need a bearer token (a Cognito ID token).",
    security_schemes={"bearerAuth": HTTPBearer(bearerFormat="JWT")},
)

OWNER: list[dict[str, list[str]]] = [{"bearerAuth": []}]
VideoId = Annotated[str, Path(min_length=1, max_length=64)]
Language = Annotated[str, Path(min_length=1, max_length=35, description="BCP-47 tag")]
Limit = Annotated[int, Query(ge=1, le=100, description="Items per page")]
Cursor = Annotated[
    str | None, Query(max_length=2048, description="nextCursor of the previous page")
]
UploadIdQuery = Annotated[
    str | None,
    Query(
        alias="uploadId",
        min_length=1,
        max_length=1024,
        description="Refuse the request if this is no longer the video's upload (Uppy sends it)",
    ),
]


def _responses(success: int, description: str, *errors: int) -> dict[int, OpenAPIResponse]:
    documented: dict[int, OpenAPIResponse] = {success: {"description": description}}
    for status in errors:
        # 401 comes from the JWT authorizer in front of the function, with its own body.
        model = AuthorizerError if status == HTTPStatus.UNAUTHORIZED else ErrorResponse
        documented[status] = {
            "description": HTTPStatus(status).phrase,
            "content": {"application/json": {"model": model}},
        }
    return documented


def _caller_id() -> str:
    """The JWT authorizer has already verified the token; its subject is the caller."""
    authorizer = app.current_event.request_context.authorizer
    claims = (authorizer.jwt_claim if authorizer else None) or {}
    subject = claims.get("sub")
    if not subject:
        raise UnauthorizedError("a signed-in user is required")
    return str(subject)


def _poster_url(deps: ApiDependencies, record: VideoRecord) -> str | None:
    if record.status != VideoStatus.COMPLETED or not record.thumbnails:
        return None
    return deps.signer.poster_url(record)


# --- the owner's videos -----------------------------------------------------------------


@app.post(
    "/videos",
    security=OWNER,
    summary="Create a video; returns its id at once and how to upload the source",
    responses=_responses(201, "Created", 400, 401, 409, 413, 415, 422, 429),
)
def create_video(
    request: Annotated[CreateVideoRequest, Body()],
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=255,
            description="A retried request with the same key (and body) returns the same video",
        ),
    ] = None,
) -> Response[CreateVideoResponse]:
    deps = get_dependencies()
    payload = {
        "owner": _caller_id(),
        "key": idempotency_key,
        "request": request.model_dump(mode="json"),
    }
    if idempotency_key is None:
        stored = _create_video(deps, payload)
    else:
        deps.idempotency_config.register_lambda_context(app.lambda_context)
        create_once = idempotent_function(
            _create_video_idempotently,
            data_keyword_argument="payload",
            persistence_store=deps.idempotency_store,
            config=deps.idempotency_config,
        )
        stored = create_once(payload=payload)
    body = CreateVideoResponse.model_validate(stored)
    return Response(
        status_code=HTTPStatus.CREATED,
        content_type=content_types.APPLICATION_JSON,
        body=body,
        headers={"Location": f"/videos/{body.video.id}"},
    )


def _create_video_idempotently(payload: dict[str, Any]) -> dict[str, Any]:
    return _create_video(get_dependencies(), payload)


def _create_video(deps: ApiDependencies, payload: dict[str, Any]) -> dict[str, Any]:
    """Creates the video and its upload; returns the response body as JSON-ready data (what
    the idempotency store keeps for a replay)."""
    request = CreateVideoRequest.model_validate(payload["request"])
    # A single PUT starts processing as soon as it lands: the limit holds from here.
    videos.require_room_to_process(payload["owner"], deps.settings.max_active_videos_per_user)
    record, plan = uploads.begin_upload(
        deps.s3,
        deps.upload_policy,
        videos.NewVideo(
            owner_id=payload["owner"],
            title=request.title,
            description=request.description,
            tags=request.tags,
            visibility=request.visibility,
            original_filename=request.filename,
            content_type=request.content_type,
            size_bytes=request.size_bytes,
        ),
        multipart=request.multipart,
        max_upload_bytes=deps.settings.max_upload_bytes,
    )
    logger.info("video created", extra={"video_id": record.video_id, "upload": type(plan).__name__})
    response = CreateVideoResponse(video=VideoBody.from_record(record), upload=upload_body(plan))
    return response.model_dump(mode="json", by_alias=True)


@app.get(
    "/videos",
    security=OWNER,
    summary="The caller's videos in every status, newest first",
    responses=_responses(200, "A page of videos", 400, 401),
)
def list_videos(limit: Limit = 20, cursor: Cursor = None) -> VideoListResponse:
    deps = get_dependencies()
    page = videos.list_owned_videos(_caller_id(), limit=limit, cursor=cursor)
    return VideoListResponse(
        items=[VideoBody.from_record(r, _poster_url(deps, r)) for r in page.items],
        next_cursor=page.next_cursor,
    )


@app.get(
    "/videos/<video_id>",
    security=OWNER,
    summary="One video: metadata, status, renditions, processing log, signed playback URLs",
    responses=_responses(200, "The video", 400, 401, 404),
)
def get_video(video_id: VideoId) -> VideoDetail:
    deps = get_dependencies()
    record, log = videos.get_owned_video_and_log(video_id, _caller_id())
    return VideoDetail.from_parts(record, deps.signer.playback_for(record), log)


@app.patch(
    "/videos/<video_id>",
    security=OWNER,
    summary="Change the title, description, tags or visibility (only the fields given)",
    responses=_responses(200, "The changed video", 400, 401, 404, 409, 415),
)
def update_video(video_id: VideoId, request: Annotated[UpdateVideoRequest, Body()]) -> VideoBody:
    deps = get_dependencies()
    record = videos.update_video(
        video_id,
        _caller_id(),
        videos.VideoChanges(
            title=request.title,
            description=request.description,
            tags=request.tags,
            visibility=request.visibility,
        ),
    )
    return VideoBody.from_record(record, _poster_url(deps, record))


@app.delete(
    "/videos/<video_id>",
    security=OWNER,
    summary="Delete the video, its source and its media (deleting again is fine)",
    responses=_responses(204, "Deleted", 400, 401, 404, 409),
)
def delete_video(video_id: VideoId) -> Response[None]:
    deps = get_dependencies()
    record = videos.find_own_video_or_tombstone(video_id, _caller_id())
    lifecycle.delete_video(
        deps.s3, deps.buckets, record, tombstone_days=deps.settings.tombstone_ttl_days
    )
    logger.info("video deleted", extra={"video_id": video_id})
    return Response(status_code=HTTPStatus.NO_CONTENT, body=None)


@app.post(
    "/videos/<video_id>/reprocess",
    security=OWNER,
    summary="Process a FAILED video again, in a new execution",
    responses=_responses(202, "Processing starts again", 400, 401, 404, 409, 429, 503),
)
def reprocess_video(video_id: VideoId) -> Response[ReprocessResponse]:
    deps = get_dependencies()
    record = videos.get_owned_video(video_id, _caller_id())
    limit = deps.settings.max_active_videos_per_user
    videos.require_room_to_process(record.owner_id, limit, video_id=video_id)
    execution_arn = lifecycle.reprocess_video(
        deps.s3,
        deps.sfn,
        uploads_bucket=deps.settings.uploads_bucket,
        state_machine_arn=deps.settings.state_machine_arn,
        record=record,
    )
    logger.info("reprocessing", extra={"video_id": video_id, "execution_arn": execution_arn})
    return Response(
        status_code=HTTPStatus.ACCEPTED,
        content_type=content_types.APPLICATION_JSON,
        body=ReprocessResponse(video=VideoBody.from_record(record), execution_arn=execution_arn),
    )


# --- uploads (the shapes of Uppy's @uppy/aws-s3 multipart hooks) -------------------------


@app.post(
    "/videos/<video_id>/upload",
    security=OWNER,
    summary="Upload instructions again: a fresh presigned PUT, or the multipart upload in "
    "progress (to resume it), or a new multipart upload",
    responses=_responses(200, "How to upload", 400, 401, 404, 409, 415),
)
def start_upload(
    video_id: VideoId, request: Annotated[StartUploadRequest | None, Body()] = None
) -> StartUploadResponse:
    deps = get_dependencies()
    record = videos.get_owned_video(video_id, _caller_id())
    multipart = request.multipart if request else None
    plan = uploads.restart_upload(deps.s3, deps.upload_policy, record, multipart)
    return StartUploadResponse(upload=upload_body(plan))


@app.get(
    "/videos/<video_id>/upload/parts/<part_number>/url",
    security=OWNER,
    summary="Uppy signPart: a presigned URL to PUT one planned part (1..partCount), "
    "signed for that part's exact size",
    responses=_responses(200, "Where to PUT the part", 400, 401, 404, 409),
)
def sign_part(
    video_id: VideoId,
    part_number: Annotated[int, Path(ge=1, le=S3_MAX_PARTS)],
    upload_id: UploadIdQuery = None,
) -> SignedPartResponse:
    deps = get_dependencies()
    record = videos.get_owned_video(video_id, _caller_id())
    signed = uploads.sign_part(deps.s3, deps.upload_policy, record, part_number, upload_id)
    return SignedPartResponse.from_signed(signed)


@app.get(
    "/videos/<video_id>/upload/parts",
    security=OWNER,
    summary="Uppy listParts: the parts S3 already holds (resume after a reload or a crash)",
    responses=_responses(200, "The uploaded parts, in order", 400, 401, 404, 409),
)
def list_parts(video_id: VideoId, upload_id: UploadIdQuery = None) -> list[PartBody]:
    deps = get_dependencies()
    record = videos.get_owned_video(video_id, _caller_id())
    parts = uploads.list_parts(deps.s3, deps.upload_policy, record, upload_id)
    return [PartBody.from_part(part) for part in parts]


@app.post(
    "/videos/<video_id>/upload/complete",
    security=OWNER,
    summary="Uppy completeMultipartUpload (or confirm a single PUT): the source is complete "
    "and its size is the declared one (otherwise it is deleted: 422 UPLOAD_SIZE_MISMATCH)",
    responses=_responses(200, "The uploaded video", 400, 401, 404, 409, 415, 422, 429),
)
def complete_upload(
    video_id: VideoId, request: Annotated[CompleteUploadRequest | None, Body()] = None
) -> CompleteUploadResponse:
    deps = get_dependencies()
    record = videos.get_owned_video(video_id, _caller_id())
    limit = deps.settings.max_active_videos_per_user
    videos.require_room_to_process(record.owner_id, limit, video_id=video_id)
    parts = (
        [uploads.PartToComplete(part_number=p.part_number, etag=p.etag) for p in request.parts]
        if request and request.parts
        else None
    )
    record = uploads.complete_upload(
        deps.s3, deps.upload_policy, record, parts, request.upload_id if request else None
    )
    logger.info("upload complete", extra={"video_id": video_id})
    return CompleteUploadResponse(
        location=f"/videos/{record.video_id}", video=VideoBody.from_record(record)
    )


@app.delete(
    "/videos/<video_id>/upload",
    security=OWNER,
    summary="Uppy abortMultipartUpload: drop the parts; the video waits for a new upload",
    responses=_responses(204, "Aborted", 400, 401, 404, 409),
)
def abort_upload(video_id: VideoId, upload_id: UploadIdQuery = None) -> Response[None]:
    deps = get_dependencies()
    record = videos.get_owned_video(video_id, _caller_id())
    uploads.abort_upload(deps.s3, deps.upload_policy, record, upload_id)
    return Response(status_code=HTTPStatus.NO_CONTENT, body=None)


# --- captions ---------------------------------------------------------------------------


@app.post(
    "/videos/<video_id>/captions",
    security=OWNER,
    summary="Start a caption upload (WebVTT or SubRip, one track per language): a presigned "
    "PUT signed for the file's size and type; then POST .../captions/{language}/complete",
    responses=_responses(201, "How to upload the file", 400, 401, 404, 409, 413, 415),
)
def create_caption_upload(
    video_id: VideoId, request: Annotated[CreateCaptionRequest, Body()]
) -> Response[CaptionUploadResponse]:
    deps = get_dependencies()
    record = videos.get_owned_video(video_id, _caller_id())
    language = captions.canonical_language(request.language)
    put = captions.begin_upload(
        deps.s3,
        deps.settings.uploads_bucket,
        deps.settings.upload_url_ttl_seconds,
        record,
        captions.CaptionRequest(
            language=language,
            label=request.label or language,
            source_format=request.format,
            size_bytes=request.size_bytes,
        ),
    )
    return Response(
        status_code=HTTPStatus.CREATED,
        content_type=content_types.APPLICATION_JSON,
        body=CaptionUploadResponse(language=language, upload=SingleUploadBody.from_put(put)),
    )


@app.post(
    "/videos/<video_id>/captions/<language>/complete",
    security=OWNER,
    summary="Check the uploaded caption file, convert it to WebVTT and publish it (a "
    "COMPLETED video's manifests are rewritten; otherwise it is published on completion). "
    "An invalid file: 422 INVALID_CAPTIONS naming the line",
    responses=_responses(200, "The published track", 400, 401, 404, 409, 415, 422),
)
def complete_caption_upload(video_id: VideoId, language: Language) -> CaptionBody:
    deps = get_dependencies()
    record = videos.get_owned_video(video_id, _caller_id())
    record, caption = captions.complete_upload(
        deps.s3,
        deps.settings.uploads_bucket,
        deps.settings.media_bucket,
        record,
        captions.canonical_language(language),
    )
    subtitles.republish(deps.s3, deps.settings.media_bucket, record)
    logger.info("captions added", extra={"video_id": video_id, "language": caption.language})
    return CaptionBody.from_caption(caption)


@app.get(
    "/videos/<video_id>/captions",
    security=OWNER,
    summary="The video's caption tracks",
    responses=_responses(200, "The tracks", 400, 401, 404),
)
def list_captions(video_id: VideoId) -> CaptionListResponse:
    record = videos.get_owned_video(video_id, _caller_id())
    ordered = sorted(record.captions, key=lambda c: c.language)
    return CaptionListResponse(items=[CaptionBody.from_caption(c) for c in ordered])


@app.delete(
    "/videos/<video_id>/captions/<language>",
    security=OWNER,
    summary="Remove a caption track (a COMPLETED video's manifests are rewritten)",
    responses=_responses(204, "Removed", 400, 401, 404, 409),
)
def delete_caption(video_id: VideoId, language: Language) -> Response[None]:
    deps = get_dependencies()
    record = videos.get_owned_video(video_id, _caller_id())
    record = captions.delete_caption(
        deps.s3, deps.settings.media_bucket, record, captions.canonical_language(language)
    )
    subtitles.republish(deps.s3, deps.settings.media_bucket, record)
    return Response(status_code=HTTPStatus.NO_CONTENT, body=None)


# --- public -----------------------------------------------------------------------------


@app.get(
    "/catalog",
    summary="Public, processed videos, newest first",
    responses=_responses(200, "A page of the catalog", 400),
)
def list_catalog(limit: Limit = 20, cursor: Cursor = None) -> CatalogResponse:
    deps = get_dependencies()
    page = videos.list_catalog(limit=limit, cursor=cursor)
    return CatalogResponse(
        items=[PublicVideoBody.from_record(r, _poster_url(deps, r)) for r in page.items],
        next_cursor=page.next_cursor,
    )


@app.get(
    "/catalog/<video_id>",
    summary="A public video with signed playback URLs",
    responses=_responses(200, "The video", 400, 404),
)
def get_catalog_video(video_id: VideoId) -> PublicVideoDetail:
    deps = get_dependencies()
    record = videos.get_public_video(video_id)
    playback = deps.signer.playback_for(record)
    summary = PublicVideoBody.from_record(record, playback.poster_url if playback else None)
    return PublicVideoDetail(**summary.model_dump(), playback=PlaybackBody.from_playback(playback))


@app.get("/openapi.json", include_in_schema=False)
def openapi_document() -> Response[str]:
    return Response(
        status_code=HTTPStatus.OK,
        content_type=content_types.APPLICATION_JSON,
        body=_openapi_json(),
        headers={"Cache-Control": "max-age=300"},
    )


@lru_cache(maxsize=1)
def _openapi_json() -> str:
    document = json.loads(app.get_openapi_json_schema())
    # Powertools documents a 422 for every validated route; this API answers invalid
    # requests with 400 (see _invalid_request), so only the 422s declared here remain.
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses", {})
            schema = responses.get("422", {}).get("content", {}).get("application/json", {})
            if schema.get("schema", {}).get("$ref", "").endswith("/HTTPValidationError"):
                del responses["422"]
    return json.dumps(document, indent=2)


# --- errors: one place maps domain errors to HTTP responses -----------------------------

_STATUS_OF: dict[type[DomainError], HTTPStatus] = {
    VideoNotFound: HTTPStatus.NOT_FOUND,
    CaptionNotFound: HTTPStatus.NOT_FOUND,
    CaptionInvalid: HTTPStatus.UNPROCESSABLE_ENTITY,
    InvalidVideoState: HTTPStatus.CONFLICT,
    FieldError: HTTPStatus.BAD_REQUEST,
    UploadTooLarge: HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
    UploadSizeMismatch: HTTPStatus.UNPROCESSABLE_ENTITY,
    ServiceUnavailable: HTTPStatus.SERVICE_UNAVAILABLE,
    TooManyActiveVideos: HTTPStatus.TOO_MANY_REQUESTS,
}


def _error(status: HTTPStatus, code: str, message: str, **extra: Any) -> Response[Any]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body={"code": code, "message": message, **extra},
    )


@app.not_found
def _no_such_route(error: NotFoundError) -> Response[Any]:
    # A method the HTTP API routes to the function but no route here serves (PUT /videos/x).
    event = app.current_event
    return _error(HTTPStatus.NOT_FOUND, "NOT_FOUND", f"no route {event.http_method} {event.path}")


@app.exception_handler(RequestValidationError)
def _invalid_request(error: RequestValidationError) -> Response[Any]:
    fields = [
        {
            "field": ".".join(str(part) for part in item.get("loc", ())[1:]) or "body",
            "message": item.get("msg", "invalid"),
        }
        for item in error.errors()
    ]
    names = ", ".join(f["field"] for f in fields)
    return _error(
        HTTPStatus.BAD_REQUEST, "INVALID_REQUEST", f"invalid fields: {names}", fields=fields
    )


def _body_error(status: HTTPStatus, code: str, message: str) -> Response[Any]:
    return _error(status, code, f"body: {message}", fields=[{"field": "body", "message": message}])


@app.exception_handler(RequestUnsupportedContentType)
def _unsupported_content_type(error: RequestUnsupportedContentType) -> Response[Any]:
    return _body_error(
        HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
        "UNSUPPORTED_MEDIA_TYPE",
        "send the body as application/json",
    )


@app.exception_handler(UnicodeDecodeError)
def _undecodable_body(error: UnicodeDecodeError) -> Response[Any]:
    # Powertools decodes the body before validating it; bytes that are not UTF-8 fail there.
    return _body_error(HTTPStatus.BAD_REQUEST, "INVALID_REQUEST", "must be JSON encoded as UTF-8")


@app.exception_handler(DomainError)
def _domain_error(error: DomainError) -> Response[Any]:
    status = next(
        (code for cls, code in _STATUS_OF.items() if isinstance(error, cls)),
        HTTPStatus.BAD_REQUEST,
    )
    field = getattr(error, "field", None)
    extra = {"fields": [{"field": field, "message": str(error)}]} if field else {}
    return _error(status, error.code, str(error), **extra)


@app.exception_handler(TooManyActiveVideos)
def _too_many_active_videos(error: TooManyActiveVideos) -> Response[Any]:
    response: Response[Any] = _domain_error(error)
    response.headers["Retry-After"] = str(error.retry_after_seconds)
    return response


@app.exception_handler(IdempotencyValidationError)
def _idempotency_key_reused(error: IdempotencyValidationError) -> Response[Any]:
    return _error(
        HTTPStatus.UNPROCESSABLE_ENTITY,
        "IDEMPOTENCY_KEY_REUSED",
        "this Idempotency-Key was used with a different request body",
    )


@app.exception_handler(IdempotencyAlreadyInProgressError)
def _idempotency_in_progress(error: IdempotencyAlreadyInProgressError) -> Response[Any]:
    return _error(
        HTTPStatus.CONFLICT,
        "IDEMPOTENCY_IN_PROGRESS",
        "a request with this Idempotency-Key is still being handled; retry shortly",
    )
