"""Good sample files for the attachment tests, made with Pillow at test time (nothing binary is
checked in): a phone photo with EXIF GPS and orientation, a PNG screenshot, a WebP, a small PDF."""

from __future__ import annotations

import io

from PIL import Image

MINIMAL_PDF = (
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n"
    b"3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>\nendobj\n"
    b"xref\n0 4\n0000000000 65535 f \n0000000009 00000 n \n0000000058 00000 n \n0000000115 00000 n \n"
    b"trailer\n<< /Size 4 /Root 1 0 R >>\nstartxref\n188\n%%EOF\n"
)


def photo_with_gps(width: int = 64, height: int = 48, orientation: int = 6) -> bytes:
    """A JPEG like a phone's: EXIF with a GPS position, a camera model and an orientation tag."""
    image = Image.new("RGB", (width, height), (200, 30, 30))
    for x in range(width // 2):
        for y in range(height):
            image.putpixel((x, y), (30, 30, 200))
    exif = Image.Exif()
    exif[0x0110] = "Phone X"  # Model
    exif[0x0112] = orientation  # Orientation: 6 = rotate 90° clockwise to view
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (39.0, 54.0, 27.0), "E", (116.0, 23.0, 50.0)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=90, comment=b"secret comment")
    return out.getvalue()


def png(width: int = 40, height: int = 30, mode: str = "RGBA") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height), (10, 200, 10, 255) if mode == "RGBA" else (10, 200, 10)).save(out, "PNG")
    return out.getvalue()


def webp(width: int = 40, height: int = 30) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (10, 10, 200)).save(out, "WEBP")
    return out.getvalue()


def jpeg(width: int = 40, height: int = 30) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (120, 120, 0)).save(out, "JPEG")
    return out.getvalue()
