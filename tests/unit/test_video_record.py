"""Reading a video's record from DynamoDB's attribute values."""

from __future__ import annotations

from typing import Any

import pytest

from lambdas.core.models import RenditionAttribute, VideoRecord

NEW_VIDEO: dict[str, Any] = {
    "pk": {"S": "v1"},
    "sk": {"S": "VIDEO"},
    "owner_id": {"S": "alice"},
    "title": {"S": "Holiday"},
    "visibility": {"S": "private"},
    "original_filename": {"S": "holiday.mp4"},
    "content_type": {"S": "video/mp4"},
    "size_bytes": {"N": "1"},
    "source_key": {"S": "v1/source"},
    "status": {"S": "PENDING_UPLOAD"},
    "renditions": {"L": []},
    "captions": {"L": []},
    "caption_uploads": {"L": []},
    "created_at": {"S": "2026-12-02T00:00:00Z"},
    "updated_at": {"S": "2026-12-02T00:00:00Z"},
    "version": {"N": "1"},
}
RENDITION = {
    "name": {"S": "720p"},
    "kind": {"S": "video"},
    "playlist_key": {"S": "v1/hls/720p/index.m3u8"},
    "codecs": {"S": "avc1.64001f"},
    "average_bitrate_bps": {"N": "2500000"},
    "peak_bitrate_bps": {"N": "3000000"},
    "segment_count": {"N": "3"},
    "output_bytes": {"N": "900000"},
}


def test_empty_lists_of_maps_are_read_without_building_a_map(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built: list[object] = []

    def make_attribute(self: RenditionAttribute) -> None:
        built.append(self)

    monkeypatch.setattr(RenditionAttribute, "_make_attribute", make_attribute)
    record = VideoRecord.from_raw_data(NEW_VIDEO)
    assert record.renditions == [] and record.captions == [] and record.caption_uploads == []
    assert built == []


def test_a_list_of_maps_with_elements_is_read_as_before() -> None:
    record = VideoRecord.from_raw_data({**NEW_VIDEO, "renditions": {"L": [{"M": RENDITION}]}})
    [rendition] = record.renditions
    assert rendition.name == "720p" and rendition.segment_count == 3
    assert rendition.width is None
