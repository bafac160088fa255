"""The type of an uploaded file, decided by its bytes alone, and the structural checks that catch
hostile files before any decoder sees them.

Only JPEG, PNG, WebP and PDF are accepted, by their magic bytes (a name or a declared type is never
trusted). An image must end where its own structure says it ends (JPEG EOI, PNG IEND, the RIFF
length of WebP): whatever follows is a second file riding along (a polyglot, e.g. JPEG+ZIP) and the
whole upload is refused, as is an image whose metadata (JPEG segments before the first scan, PNG
chunks other than IDAT, WebP chunks other than the bitstream) carries another format's signature
(ZIP, HTML, script, PDF). Compressed pixels are not searched: 4 random bytes equal "PK\x03\x04"
about once in 4 billion positions, which would refuse about one large phone photo in 200.
One trailer is a phone's, not an attacker's: a motion photo (Google, Samsung) is a JPEG followed by
the MP4 of its few seconds of video. It is accepted unless that trailer carries a foreign signature;
re-encoding keeps only the picture. A PDF must start with ``%PDF-``, end with ``%%EOF``, and contain no active content
(JavaScript, launch actions, embedded files, open actions), also inside compressed streams.
Every failure is an `AttachmentRejected`; nothing here decodes pixels (that is images.py).
"""

from __future__ import annotations

import re
import struct
import zlib
from typing import List, Optional, Tuple

from bot.attachments.model import IMAGE, PDF, AttachmentRejected

JPEG, PNG, WEBP = "image/jpeg", "image/png", "image/webp"
PDF_MIME = "application/pdf"

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# Signatures of other formats that have no business inside an image (matched case-insensitively).
_FOREIGN = (b"<html", b"<script", b"<svg", b"<?php", b"%pdf-", b"<iframe", b"<body")
_PDF_FOREIGN = (b"pk\x03\x04", b"<html", b"<script", b"<svg", b"<?php", b"<iframe")
_PDF_ACTIVE = re.compile(rb"/(?:JavaScript|JS|Launch|EmbeddedFiles?|OpenAction)(?![A-Za-z0-9])")
_PDF_HEX_NAME = re.compile(rb"#([0-9A-Fa-f]{2})")
_PDF_STREAM = re.compile(rb"stream\r?\n")
_TRAILER_SCAN = 64 * 1024
PDF_EOF_WINDOW = 1024  # %%EOF must be within this many bytes of the end
PDF_INFLATE_LIMIT = 20 * 1024 * 1024  # bytes of decompressed streams inspected, in all
PDF_MAX_STREAMS = 2000


def sniff(data: bytes) -> Tuple[str, str]:
    """(kind, mime) by magic bytes; AttachmentRejected("unsupported") for anything else."""
    if data.startswith(b"\xff\xd8\xff"):
        return IMAGE, JPEG
    if data.startswith(_PNG_MAGIC):
        return IMAGE, PNG
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return IMAGE, WEBP
    if data.startswith(b"%PDF-"):
        return PDF, PDF_MIME
    raise AttachmentRejected("unsupported")


def check_structure(data: bytes, mime: str) -> Optional[Tuple[int, int]]:
    """Refuse truncated files and polyglots; returns the image's declared (width, height) when the
    header says it (PNG), so that a bomb is refused before decoding."""
    if mime == PDF_MIME:
        _check_pdf(data)
        return None
    if mime == JPEG:
        end, metadata = _jpeg_end(data)
    elif mime == PNG:
        end, metadata = _png_end(data)
    else:
        end, metadata = _webp_end(data)
    trailer = data[end:]
    if trailer.strip(b"\x00\r\n\t ") != b"":
        if not (mime == JPEG and _is_motion_video(trailer)):
            raise AttachmentRejected("polyglot")
        # A ZIP riding behind the video ends with its directory; its head or anything textual
        # would sit near either end. The middle is compressed video.
        metadata.extend((trailer[:_TRAILER_SCAN], trailer[-_TRAILER_SCAN:]))
    if any(_foreign(part) for part in metadata):
        raise AttachmentRejected("polyglot")
    if mime == PNG:
        width, height = struct.unpack(">II", data[16:24])
        return width, height
    return None


def _foreign(part: bytes) -> bool:
    """Another format's signature in bytes that should hold none (ZIP's exactly, text ones in any case)."""
    if b"PK\x03\x04" in part or b"PK\x05\x06" in part:
        return True
    lowered = part.lower()
    return any(signature in lowered for signature in _FOREIGN)


def _is_motion_video(trailer: bytes) -> bool:
    """An MP4 (ISO media: a first box of type ftyp) right after the JPEG, as motion photos have."""
    return trailer[4:8] == b"ftyp"


def _jpeg_end(data: bytes) -> Tuple[int, List[bytes]]:
    """The offset just after the JPEG's EOI marker, found by walking its segments and scans, and the
    segments that are not entropy-coded pixels (markers, tables, APPn metadata, comments)."""
    pos, size, metadata = 2, len(data), []
    while True:
        if pos + 2 > size or data[pos] != 0xFF:
            raise AttachmentRejected("truncated")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill bytes before a marker
            pos += 1
            continue
        if marker == 0xD9:
            return pos + 2, metadata
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            pos += 2
            continue
        if pos + 4 > size:
            raise AttachmentRejected("truncated")
        length = struct.unpack(">H", data[pos + 2:pos + 4])[0]
        if length < 2 or pos + 2 + length > size:
            raise AttachmentRejected("truncated")
        metadata.append(data[pos:pos + 2 + length])
        pos += 2 + length
        if marker == 0xDA:  # start of scan: entropy-coded data up to the next real marker
            while True:
                found = data.find(b"\xff", pos)
                if found < 0 or found + 1 >= size:
                    raise AttachmentRejected("truncated")
                following = data[found + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
                    pos = found + (2 if following != 0xFF else 1)
                    continue
                pos = found
                break


def _png_end(data: bytes) -> Tuple[int, List[bytes]]:
    """The offset just after the IEND chunk (the first chunk must be a 13-byte IHDR), and every
    chunk but the compressed pixels (IDAT)."""
    pos, size, metadata = 8, len(data), []
    if size < 33 or data[12:16] != b"IHDR" or struct.unpack(">I", data[8:12])[0] != 13:
        raise AttachmentRejected("truncated")
    while True:
        if pos + 12 > size:
            raise AttachmentRejected("truncated")
        length = struct.unpack(">I", data[pos:pos + 4])[0]
        kind = data[pos + 4:pos + 8]
        end = pos + 12 + length
        if end > size:
            raise AttachmentRejected("truncated")
        if kind != b"IDAT":
            metadata.append(data[pos:end])
        if kind == b"IEND":
            return end, metadata
        pos = end


_WEBP_PIXELS = (b"VP8 ", b"VP8L", b"ALPH", b"ANMF")


def _webp_end(data: bytes) -> Tuple[int, List[bytes]]:
    """The RIFF length, and every chunk but the compressed pixels (VP8, VP8L, alpha, frames)."""
    declared = struct.unpack("<I", data[4:8])[0] + 8
    if declared > len(data) or declared < 20:
        raise AttachmentRejected("truncated")
    pos, metadata = 12, []
    while pos + 8 <= declared:
        kind, length = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        end = min(declared, pos + 8 + length + (length & 1))
        if kind not in _WEBP_PIXELS:
            metadata.append(data[pos:end])
        pos = end
    if pos < declared:
        metadata.append(data[pos:declared])
    return declared, metadata


def _check_pdf(data: bytes) -> None:
    tail = data[-PDF_EOF_WINDOW:]
    if b"%%EOF" not in tail:
        raise AttachmentRejected("truncated_pdf")
    lowered = data.lower()
    if any(signature in lowered for signature in _PDF_FOREIGN):
        raise AttachmentRejected("polyglot")
    if _active(data):
        raise AttachmentRejected("pdf_active")
    budget, view = PDF_INFLATE_LIMIT, memoryview(data)
    for count, match in enumerate(_PDF_STREAM.finditer(data)):
        if budget <= 0 or count >= PDF_MAX_STREAMS:
            break
        inflater = zlib.decompressobj()
        try:
            inflated = inflater.decompress(view[match.end():], budget)
        except zlib.error:
            continue  # not a Flate stream (an image, or another filter): nothing to read in it
        budget -= len(inflated)
        if _active(inflated) or any(signature in inflated.lower() for signature in _PDF_FOREIGN):
            raise AttachmentRejected("pdf_active")


def _active(data: bytes) -> bool:
    """Whether PDF bytes name an action (names may be hex-escaped: /J#61vaScript)."""
    if _PDF_ACTIVE.search(data):
        return True
    return b"#" in data and bool(_PDF_ACTIVE.search(_PDF_HEX_NAME.sub(lambda m: bytes([int(m.group(1), 16)]), data)))
