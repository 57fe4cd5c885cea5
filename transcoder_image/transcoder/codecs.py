"""RFC 6381 codec strings (for CODECS= in the master playlist) from ffprobe output.

All are read from the decoder configuration in the output's init segment, which
`ffprobe -show_streams -show_data` prints as a hex dump under "extradata": the avcC
record's profile, constraint flags and level bytes are exactly avc1.PPCCLL, the hvcC
record holds the fields of hvc1.P.C.TL.B (ISO/IEC 14496-15 Annex E), and the
AudioSpecificConfig starts with the AAC audio object type of mp4a.40.N, and the av1C record
holds the profile, level, tier and bit depth of av01.P.LLT.DD (AV1 Codec ISO Media File
Format Binding, "Codecs Parameter String").
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

# ffprobe's dump: "%08x: " then 16 bytes as hex in pairs of bytes, padded to 41 columns.
_HEX_COLUMNS = slice(10, 50)


def codec_string(stream: Mapping[str, Any]) -> str:
    codec = stream.get("codec_name")
    extradata = parse_hexdump(str(stream.get("extradata", "")))
    if codec == "h264":
        return avc1_codec(extradata)
    if codec == "hevc":
        return hvc1_codec(extradata, str(stream.get("codec_tag_string", "hvc1")))
    if codec == "av1":
        return av01_codec(extradata)
    if codec == "aac":
        return mp4a_codec(extradata)
    raise ValueError(f"no RFC 6381 mapping for codec {codec!r}")


def parse_hexdump(dump: str) -> bytes:
    """Bytes of an ffprobe `-show_data` hex dump ("00000000: 0164 001e ...  .d..")."""
    return b"".join(
        bytes.fromhex(line[_HEX_COLUMNS].replace(" ", "")) for line in dump.splitlines() if line
    )


def avc1_codec(avcc: bytes) -> str:
    """avc1.PPCCLL from an AVCDecoderConfigurationRecord (ISO/IEC 14496-15)."""
    if len(avcc) < 4 or avcc[0] != 1:
        raise ValueError("extradata is not an avcC record")
    return f"avc1.{avcc[1]:02x}{avcc[2]:02x}{avcc[3]:02x}"


def hvc1_codec(hvcc: bytes, sample_entry: str = "hvc1") -> str:
    """hvc1.P.C.TL.B from an HEVCDecoderConfigurationRecord: profile (with its space),
    compatibility flags bit-reversed in hex, tier and level, then the constraint bytes
    without trailing zero bytes."""
    if len(hvcc) < 13 or hvcc[0] != 1:
        raise ValueError("extradata is not an hvcC record")
    profile_space = "" if hvcc[1] >> 6 == 0 else "ABC"[(hvcc[1] >> 6) - 1]
    tier = "H" if hvcc[1] & 0x20 else "L"
    profile_idc = hvcc[1] & 0x1F
    compatibility = int(f"{int.from_bytes(hvcc[2:6], 'big'):032b}"[::-1], 2)
    constraints = hvcc[6:12].rstrip(b"\x00")
    parts = [
        sample_entry,
        f"{profile_space}{profile_idc}",
        f"{compatibility:X}",
        f"{tier}{hvcc[12]}",
        *(f"{byte:X}" for byte in constraints),
    ]
    return ".".join(parts)


def av01_codec(av1c: bytes) -> str:
    """av01.P.LLT.DD from an AV1CodecConfigurationRecord: seq_profile, seq_level_idx_0 (two
    digits), seq_tier_0 (M or H) and the bit depth (08, 10 or 12). The optional fields after
    DD are left out: a player then assumes 4:2:0 BT.709, which every rung is."""
    if len(av1c) < 4 or av1c[0] != 0x81:  # marker bit and version 1
        raise ValueError("extradata is not an av1C record")
    profile, level = av1c[1] >> 5, av1c[1] & 0x1F
    tier = "H" if av1c[2] & 0x80 else "M"
    high_bitdepth, twelve_bit = bool(av1c[2] & 0x40), bool(av1c[2] & 0x20)
    depth = 12 if (profile == 2 and high_bitdepth and twelve_bit) else 10 if high_bitdepth else 8
    return f"av01.{profile}.{level:02d}{tier}.{depth:02d}"


def mp4a_codec(audio_specific_config: bytes) -> str:
    """mp4a.40.N, N being the audio object type (2 = AAC-LC, 5 = HE-AAC, 29 = HE-AACv2)."""
    if len(audio_specific_config) < 2:
        raise ValueError("extradata is not an AudioSpecificConfig")
    bits = int.from_bytes(audio_specific_config[:2], "big")
    object_type = bits >> 11
    if object_type == 31:  # escape: 32 + the next six bits
        object_type = 32 + ((bits >> 5) & 0x3F)
    return f"mp4a.40.{object_type}"


def frame_rate(stream: Mapping[str, Any]) -> float | None:
    """The stream's frame rate from ffprobe's "25/1"-style fields; None if unknown."""
    for field in ("avg_frame_rate", "r_frame_rate"):
        numerator, _, denominator = str(stream.get(field, "0/0")).partition("/")
        if denominator and int(denominator) and int(numerator):
            return float(Fraction(int(numerator), int(denominator)))
    return None
