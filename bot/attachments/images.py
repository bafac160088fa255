"""Decoding and re-encoding accepted images with Pillow: what is stored is never the customer's
file but a fresh encoding of its pixels, upright (EXIF orientation applied) and without EXIF, XMP,
ICC profiles or comments (a phone photo's GPS position is personal data).

Bombs are refused from the header's dimensions before any pixel is decoded (`MAX_PIXELS`, well
under Pillow's own limit, so its DecompressionBombWarning cannot be reached afterwards; it and the
error are refused too should they come). A file Pillow cannot load completely is truncated:
``ImageFile.LOAD_TRUNCATED_IMAGES`` stays off. Any other Pillow failure is an unsupported file.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from typing import Optional, Tuple

from PIL import Image, ImageOps, UnidentifiedImageError

from bot.attachments.model import AttachmentRejected
from bot.attachments.sniff import JPEG, PNG, WEBP

logger = logging.getLogger(__name__)

MAX_PIXELS = 40_000_000
MAX_SIDE = 20_000
THUMBNAIL_SIDE = 320
JPEG_QUALITY = 90
_FORMATS = {JPEG: "JPEG", PNG: "PNG", WEBP: "WEBP"}


@dataclass(frozen=True)
class Encoded:
    data: bytes
    width: int
    height: int
    thumbnail: bytes  # JPEG, at most THUMBNAIL_SIDE on each side


def _check_size(width: int, height: int) -> None:
    if width <= 0 or height <= 0:
        raise AttachmentRejected("truncated")
    if width * height > MAX_PIXELS or width > MAX_SIDE or height > MAX_SIDE:
        raise AttachmentRejected("bomb")


def reencode(data: bytes, mime: str, declared: Optional[Tuple[int, int]] = None) -> Encoded:
    """The image decoded, turned upright and encoded again in its own format, with a thumbnail."""
    if declared is not None:
        _check_size(*declared)
    try:
        with Image.open(io.BytesIO(data), formats=[_FORMATS[mime]]) as opened:
            _check_size(*opened.size)
            opened.load()
            upright = ImageOps.exif_transpose(opened)
            return _encode(upright, mime)
    except AttachmentRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise AttachmentRejected("bomb") from None
    except (UnidentifiedImageError, SyntaxError):
        raise AttachmentRejected("unsupported") from None
    except (OSError, EOFError, ValueError) as error:
        # Pillow says "image file is truncated", "broken data stream", "unrecognized data stream contents"...
        logger.info("image refused by the decoder: %s", error.__class__.__name__)
        raise AttachmentRejected("truncated") from None
    except Exception as error:  # noqa: BLE001 - a decoder bug must never become a crash
        logger.warning("image decoder failed: %s", error.__class__.__name__)
        raise AttachmentRejected("unsupported") from None


def _encode(image: Image.Image, mime: str) -> Encoded:
    if mime == JPEG:
        pixels = image.convert("RGB") if image.mode not in ("RGB", "L") else image
        options = {"quality": JPEG_QUALITY, "optimize": True}
    elif mime == PNG:
        pixels = image if image.mode in ("1", "L", "LA", "P", "RGB", "RGBA") else image.convert("RGBA")
        options = {"optimize": True}
    else:
        pixels = image if image.mode in ("RGB", "RGBA") else image.convert("RGBA")
        options = {"quality": JPEG_QUALITY}
    clean = pixels.copy()
    transparency = clean.info.get("transparency")
    clean.info.clear()  # EXIF, XMP, ICC profile, comments, text chunks: none of them is kept
    if transparency is not None and mime == PNG:
        options["transparency"] = transparency
    out = io.BytesIO()
    clean.save(out, _FORMATS[mime], exif=b"", **options)
    return Encoded(out.getvalue(), clean.width, clean.height, thumbnail(clean))


def thumbnail(image: Image.Image) -> bytes:
    """A JPEG of at most THUMBNAIL_SIDE pixels each way; transparency shown on white."""
    small = image.copy()
    small.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    if small.mode in ("RGBA", "LA", "P", "PA"):
        rgba = small.convert("RGBA")
        background = Image.new("RGB", rgba.size, "white")
        background.paste(rgba, mask=rgba.getchannel("A"))
        small = background
    elif small.mode != "RGB":
        small = small.convert("RGB")
    out = io.BytesIO()
    small.save(out, "JPEG", quality=80)
    return out.getvalue()
