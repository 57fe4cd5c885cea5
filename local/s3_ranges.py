"""moto's ranged GetObject, reading only the bytes it sends, as it sends them.

moto 5.2 answers a GET by reading the whole object into memory (`FakeKey.value`), then cuts
the range out of it. ffprobe reads a source over open-ended ranges (`bytes=N-`) and hangs up
once it has what it needs, so each of its reads cost a copy of the whole object (about 0.1 s
of CPU on a 200 MB source) for a few hundred kilobytes used. Here, while moto's
`get_object` runs for a request with a Range header, the key's value is a view that reads
nothing until moto slices it; the slice is streamed a chunk at a time from the key's own
buffer, under the key's lock. Only in moto's server, whose WSGI server sends an iterable
body: in-process (`mock_aws`) a body must be bytes. Every status, header and byte is moto's:
the range logic is still its `_handle_range_header`. tests/unit/test_s3_ranges.py compares
responses with and without this on every kind of range, so a moto upgrade that changes the
path fails there.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from flask import has_request_context
from moto.s3.models import FakeKey
from moto.s3.responses import S3Response

from local.moto_patch import MotoPatch

CHUNK_BYTES = 1024 * 1024

_original_value = FakeKey.value
_original_get_object = S3Response.get_object
_ranged = ContextVar("s3_ranges_ranged", default=False)


class KeyBytes:
    """The bytes `start`..`stop` of a key, as moto's `len` and slicing see them, read only
    when iterated."""

    def __init__(self, key: FakeKey, start: int = 0, stop: int | None = None) -> None:
        self._key = key
        self._start = start
        self._stop = key.size if stop is None else min(stop, key.size)

    def __len__(self) -> int:
        return max(0, self._stop - self._start)

    def __getitem__(self, part: slice) -> KeyBytes:
        start, stop, step = part.indices(len(self))
        if step != 1:
            raise TypeError("only contiguous slices of a key are read lazily")
        return KeyBytes(self._key, self._start + start, self._start + max(start, stop))

    def __iter__(self) -> Iterator[bytes]:
        position = self._start
        while position < self._stop:
            with self._key.lock:
                buffer = self._key._value_buffer
                buffer.seek(position)
                chunk = buffer.read(min(CHUNK_BYTES, self._stop - position))
            if not chunk:
                return
            position += len(chunk)
            yield chunk

    def __bytes__(self) -> bytes:
        return b"".join(self)


def _value(self: FakeKey) -> Any:
    if _ranged.get():
        return KeyBytes(self)
    return _original_value.fget(self)  # type: ignore[attr-defined]


_lazy_value = property(_value, _original_value.fset)  # type: ignore[attr-defined]


def _get_object(self: S3Response) -> Any:
    # Only in moto's server, whose WSGI server sends an iterable body; in-process (mock_aws)
    # the body must be bytes.
    ranged = (
        has_request_context()
        and bool(self.headers.get("range"))
        and "partNumber" not in self.querystring
    )
    token = _ranged.set(ranged)
    try:
        return _original_get_object(self)
    finally:
        _ranged.reset(token)


PATCH = MotoPatch([(FakeKey, "value", _lazy_value), (S3Response, "get_object", _get_object)])
