"""What real phones send must pass the polyglot checks: motion photos (a JPEG followed by its MP4)
and large photos whose compressed pixels happen to contain another format's signature bytes
(about one 5 MB photo in 200 holds "PK\x03\x04" somewhere by chance)."""

from __future__ import annotations

import io
import random
import struct
import zlib

import pytest
from PIL import Image

from bot.attachments import AttachmentRejected, sniff
from tests.attachment_samples import jpeg, png
from tests.hostile_files import _chunk, _zip

MP4_HEAD = struct.pack(">I", 24) + b"ftypmp42" + b"\x00\x00\x00\x00mp42isom"


def _motion_video(size: int = 200_000) -> bytes:
    """The shape of a motion photo's trailer: an ftyp box, then an mdat of compressed video."""
    body = random.Random(11).randbytes(size).replace(b"PK", b"pk")
    return MP4_HEAD + struct.pack(">I", len(body) + 8) + b"mdat" + body


def _png_with_signatures_in_pixels() -> bytes:
    """A PNG whose pixel rows are the bytes of a ZIP header and an HTML tag, stored uncompressed, so
    that the IDAT chunk holds them literally (as compressed pixels may by chance)."""
    row = (b"PK\x03\x04<html><script>" * 8)[:128]
    ihdr = struct.pack(">IIBBBBB", 128, 4, 8, 0, 0, 0, 0)  # 8-bit grey
    idat = zlib.compress(b"".join(b"\x00" + row for _ in range(4)), 0)  # filter none, stored block
    data = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
    Image.open(io.BytesIO(data)).load()  # a real, decodable picture
    assert b"PK\x03\x04" in data and b"<html>" in data
    return data


def test_a_motion_photo_is_a_photo():
    data = jpeg(120, 90) + _motion_video()
    assert sniff.sniff(data)[1] == sniff.JPEG
    assert sniff.check_structure(data, sniff.JPEG) is None


def test_signature_bytes_inside_pixel_data_are_not_a_polyglot():
    data = _png_with_signatures_in_pixels()
    assert sniff.check_structure(data, sniff.PNG) == (128, 4)


@pytest.mark.parametrize(
    "data",
    [
        jpeg() + MP4_HEAD + _zip(),  # a ZIP dressed as a motion photo's video
        jpeg() + _motion_video(1000) + b"<html><script>alert(1)</script></html>",
        png() + MP4_HEAD,  # only JPEG motion photos exist
    ],
)
def test_disguised_trailers_are_still_refused(data):
    with pytest.raises(AttachmentRejected) as refused:
        sniff.check_structure(data, sniff.sniff(data)[1])
    assert refused.value.reason == "polyglot"
