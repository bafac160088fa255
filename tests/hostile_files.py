"""A corpus of hostile uploads, built at test time from Pillow and bytes (nothing binary is checked
in): wrong types under image names, truncated files, decompression bombs, polyglots, active PDFs.
Text-message attacks are tests/hostile_corpus/; this is files only.

Each case is (name, bytes, expected reason): the attachment service must refuse every one with
that reason and a Chinese sentence, store nothing, and never crash.
"""

from __future__ import annotations

import io
import random
import struct
import zlib
from typing import Callable, List, Tuple

from PIL import Image

from tests.attachment_samples import MINIMAL_PDF, jpeg, png, webp

Case = Tuple[str, bytes, str]


def _saved(fmt: str, **options) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 100, 50)).save(out, fmt, **options)
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bomb(width: int = 30_000, height: int = 30_000) -> bytes:
    """A tiny PNG that declares 900 megapixels (grey, one zlib stream of zeros for a few rows)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * (width + 1) * 4, 9)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def jpeg_bomb() -> bytes:
    """A real small JPEG whose frame header is patched to claim 65,000 x 65,000 pixels."""
    data = bytearray(jpeg(16, 16))
    at = data.find(b"\xff\xc0")
    data[at + 5:at + 9] = struct.pack(">HH", 65000, 65000)
    return bytes(data)


def png_text_bomb() -> bytes:
    """A valid PNG with a zTXt chunk that inflates to 64 MB."""
    good = png()
    text = b"Comment\x00\x00" + zlib.compress(b"\x00" * (64 * 1024 * 1024), 9)
    at = good.find(b"IDAT") - 4
    return good[:at] + _chunk(b"zTXt", text) + good[at:]


def png_bad_pixels() -> bytes:
    """Structurally whole (every chunk, IEND) but the pixel stream is not zlib."""
    ihdr = struct.pack(">IIBBBBB", 64, 64, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", b"not zlib at all" * 4) + _chunk(b"IEND", b"")


def _pdf(body: bytes) -> bytes:
    return b"%PDF-1.7\n" + body + b"\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def _zip() -> bytes:
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("payload.html", "<html><script>alert(1)</script></html>")
    return out.getvalue()


def _jpeg_with_comment(comment: bytes) -> bytes:
    return _saved("JPEG", comment=comment)


def _png_with_text(text: bytes) -> bytes:
    good = png()
    at = good.find(b"IDAT") - 4
    return good[:at] + _chunk(b"tEXt", b"Comment\x00" + text) + good[at:]


def _flate_pdf(inner: bytes) -> bytes:
    stream = zlib.compress(inner)
    return _pdf(b"1 0 obj\n<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream\nendobj")


BUILDERS: List[Tuple[str, Callable[[], bytes], str]] = [
    ("zero bytes", lambda: b"", "empty"),
    ("5 MB + 1", lambda: b"\xff\xd8\xff\xe0" + b"\x00" * (5 * 1024 * 1024 - 3), "too_large"),
    ("HTML named .jpg", lambda: b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>", "unsupported"),
    ("SVG named .png", lambda: b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "unsupported"),
    ("Windows EXE named .pdf", lambda: b"MZ\x90\x00" + b"\x00" * 60 + b"PE\x00\x00" + bytes(200), "unsupported"),
    ("ZIP named .jpg", _zip, "unsupported"),
    ("GIF", lambda: _saved("GIF"), "unsupported"),
    ("BMP", lambda: _saved("BMP"), "unsupported"),
    ("TIFF", lambda: _saved("TIFF"), "unsupported"),
    ("ICO", lambda: _saved("ICO"), "unsupported"),
    ("random bytes", lambda: random.Random(7).randbytes(4096), "unsupported"),
    ("UTF-16 text", lambda: "投诉".encode("utf-16"), "unsupported"),
    ("JPEG header only", lambda: b"\xff\xd8\xff\xe0\x00\x10JFIF", "truncated"),
    ("truncated JPEG", lambda: jpeg(200, 200)[: len(jpeg(200, 200)) // 2], "truncated"),
    ("truncated PNG", lambda: png(200, 200)[:-20], "truncated"),
    ("truncated WebP", lambda: webp(200, 200)[: len(webp(200, 200)) - 30], "truncated"),
    ("truncated PDF", lambda: MINIMAL_PDF[: len(MINIMAL_PDF) // 2], "truncated"),
    ("PNG with a broken pixel stream", png_bad_pixels, "truncated"),
    ("PNG bomb (30,000 x 30,000 declared)", png_bomb, "bomb"),
    ("JPEG bomb (65,000 x 65,000 declared)", jpeg_bomb, "bomb"),
    ("PNG of 64 MP declared (under Pillow's own limit)", lambda: png_bomb(8000, 8000), "bomb"),
    ("PNG with a 64 MB zTXt chunk", png_text_bomb, "truncated"),
    ("JPEG + ZIP", lambda: jpeg() + _zip(), "polyglot"),
    ("JPEG + appended bytes", lambda: jpeg() + random.Random(3).randbytes(512), "polyglot"),
    ("PNG + appended bytes", lambda: png() + b"\x01\x02payload" * 20, "polyglot"),
    ("PNG + HTML", lambda: png() + b"<html><script>alert(1)</script></html>", "polyglot"),
    ("WebP + trailing script", lambda: webp() + b"<script>alert(1)</script>", "polyglot"),
    ("JPEG with <script> in a comment", lambda: _jpeg_with_comment(b"<script>alert(1)</script>"), "polyglot"),
    ("PNG with %PDF- in a text chunk", lambda: _png_with_text(b"%PDF-1.4 hidden"), "polyglot"),
    ("JPEG with an HTML page in a comment", lambda: _jpeg_with_comment(b"<html><body>hi</body></html>"), "polyglot"),
    ("PDF with /JavaScript", lambda: _pdf(b"1 0 obj << /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >> endobj"), "polyglot"),
    ("PDF with a hex-escaped /J#61vaScript", lambda: _pdf(b"1 0 obj << /S /J#61vaScript >> endobj"), "polyglot"),
    ("PDF with /Launch", lambda: _pdf(b"1 0 obj << /S /Launch /F (cmd.exe) >> endobj"), "polyglot"),
    ("PDF with /EmbeddedFile", lambda: _pdf(b"1 0 obj << /Type /EmbeddedFile >> endobj"), "polyglot"),
    ("PDF with /OpenAction only", lambda: _pdf(b"1 0 obj << /OpenAction [3 0 R /Fit] >> endobj"), "polyglot"),
    ("PDF with JavaScript in a Flate stream", lambda: _flate_pdf(b"<< /S /JavaScript /JS (app.alert(1)) >>"), "polyglot"),
    ("PDF with an HTML page inside", lambda: _pdf(b"<html><script>alert(1)</script></html>"), "polyglot"),
    ("PDF + ZIP", lambda: MINIMAL_PDF[:-7] + _zip() + b"\n%%EOF\n", "polyglot"),
]


def corpus() -> List[Case]:
    return [(name, build(), reason) for name, build, reason in BUILDERS]
