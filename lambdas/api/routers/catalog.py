"""The public catalog: processed, public videos and their signed playback URLs."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

from lambdas.api.dependencies import Deps
from lambdas.api.parameters import Cursor, Limit, VideoId, documented
from lambdas.api.schemas import CatalogResponse, PlaybackBody, PublicVideoBody, PublicVideoDetail
from lambdas.core import videos

router = Router()


@router.get(
    "/catalog",
    summary="Public, processed videos, newest first",
    responses=documented(200, "A page of the catalog", 400),
)
def list_catalog(deps: Deps, limit: Limit = 20, cursor: Cursor = None) -> CatalogResponse:
    page = videos.list_catalog(limit=limit, cursor=cursor)
    return CatalogResponse(
        items=[PublicVideoBody.from_record(r, deps.poster_url(r)) for r in page.items],
        next_cursor=page.next_cursor,
    )


@router.get(
    "/catalog/<video_id>",
    summary="A public video with signed playback URLs",
    responses=documented(200, "The video", 400, 404),
)
def get_catalog_video(video_id: VideoId, deps: Deps) -> PublicVideoDetail:
    record = videos.get_public_video(video_id)
    playback = deps.playback_for(record)
    summary = PublicVideoBody.from_record(record, playback.poster_url if playback else None)
    return PublicVideoDetail(**summary.model_dump(), playback=PlaybackBody.from_playback(playback))
