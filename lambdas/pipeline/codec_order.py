"""The order of the video codec families in the master playlist and the MPD: H.264 first
(what every player decodes: a player that starts with the first variant can play it), then
HEVC, then AV1; a family not listed last."""

from __future__ import annotations

# RFC 6381 sample-entry names, the part of CODECS before the first dot
CODEC_FAMILY_ORDER = ("avc1", "avc3", "hvc1", "hev1", "av01")


def codec_family(codecs: str) -> str:
    return codecs.split(".", 1)[0]


def codec_rank(codecs: str) -> int:
    family = codec_family(codecs)
    return (
        CODEC_FAMILY_ORDER.index(family)
        if family in CODEC_FAMILY_ORDER
        else len(CODEC_FAMILY_ORDER)
    )
