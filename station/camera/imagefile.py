"""Image files as hostile input: size and pixel limits checked from the header, before any decoding.

A 1 MB PNG can declare 20000×20000 pixels; decoding it costs width × height × 3 bytes (1.2 GB) before
anything can look at it. ``load_image`` therefore reads at most ``MAX_FILE_BYTES`` (``station.files``),
takes the dimensions from the format's own header -- PNG ``IHDR``, the JPEG ``SOFn`` marker, the BMP
info header, the first TIFF IFD, WebP's ``VP8``/``VP8L``/``VP8X`` chunk -- and refuses more than
``MAX_PIXELS`` (or fewer than ``MIN_SIDE`` on a side) before OpenCV sees a byte. Other formats are
refused by name. Whatever OpenCV then says (a truncated file, a lying header) becomes an
``ImageError`` with a plain message (``opencv_errors``), never an OpenCV traceback.

Limits: ``MAX_PIXELS`` is 25 megapixels (a 6000×4000 camera photo; the desk camera gives 2 to 8 MP),
so a decoded image needs at most 75 MB.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np

from station.camera.errors import ImageError
from station.files import read_bounded
from station.i18n import Text

MAX_FILE_BYTES = 40 * 1024**2
MAX_PIXELS = 25_000_000
MIN_SIDE = 16  # a degenerate image (1×N) is refused before it reaches the detector
_WHAT = Text("图像文件", "image file")


def image_size(data: bytes) -> tuple[str, int, int]:
    """``(format, width, height)`` from the header of ``data``; ImageError for a format not handled."""
    try:
        if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
            width, height = struct.unpack(">II", data[16:24])
            return "png", width, height
        if data.startswith(b"\xff\xd8"):
            return ("jpeg", *_jpeg_size(data))
        if data.startswith(b"BM"):
            return ("bmp", *_bmp_size(data))
        if data[:4] in (b"II*\x00", b"MM\x00*"):
            return ("tiff", *_tiff_size(data))
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            return ("webp", *_webp_size(data))
    except (struct.error, IndexError, ValueError):
        raise _unreadable() from None
    raise ImageError(
        "image_format",
        Text(
            "不支持的图像格式：请使用 JPEG、PNG、BMP、TIFF 或 WebP 文件。",
            "Unsupported image format: use a JPEG, PNG, BMP, TIFF or WebP file.",
        ),
    )


def check_size(width: int, height: int) -> None:
    if width * height > MAX_PIXELS:
        raise ImageError(
            "image_too_large",
            Text(
                "图像过大（{w}×{h} 像素，上限 {limit} 万像素），未解码。请使用相机原图或缩小后的照片。",
                "The image is too large ({w}×{h} pixels; the limit is {mp} megapixels); it was not decoded. "
                "Use the camera's photo or a smaller copy.",
            ).format(w=width, h=height, limit=MAX_PIXELS // 10_000, mp=MAX_PIXELS // 1_000_000),
        )
    if min(width, height) < MIN_SIDE:
        raise ImageError(
            "image_too_small",
            Text(
                "图像过小（{w}×{h} 像素），无法用作照片。",
                "The image is too small ({w}×{h} pixels) to be a photo.",
            ).format(w=width, h=height),
        )


def load_image(path: str | Path) -> np.ndarray:
    """The image at ``path`` decoded to 8-bit BGR, within the limits above, or an ImageError."""
    data = read_bounded(path, MAX_FILE_BYTES, _WHAT)
    _format, width, height = image_size(data)
    check_size(width, height)
    with opencv_errors():
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    # EXIF orientation may turn a JPEG a quarter turn: the sides may swap, never grow.
    if image is None or sorted(image.shape[:2]) != sorted((width, height)):
        raise _unreadable()
    return image


@contextmanager
def opencv_errors(code: str = "image_unreadable") -> Iterator[None]:
    """An OpenCV error inside becomes an ImageError with a plain message (logged by type only)."""
    try:
        yield
    except cv2.error:
        raise ImageError(
            code,
            Text(
                "无法处理此图像（文件可能已损坏或格式异常）。请换一张照片。",
                "This image cannot be processed (the file may be damaged or unusual); use another photo.",
            ),
        ) from None


def _unreadable() -> ImageError:
    return ImageError(
        "image_unreadable",
        Text("图像文件已损坏或不完整，无法读取。", "The image file is damaged or incomplete and cannot be read."),
    )


_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg_size(data: bytes) -> tuple[int, int]:
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            raise ValueError("not a marker")
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            position += 2
            continue
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        if marker in _SOF:
            height, width = struct.unpack(">HH", data[position + 5 : position + 9])
            return width, height
        if marker == 0xDA or length < 2:  # scan data before any frame header
            raise ValueError("no frame header")
        position += 2 + length
    raise ValueError("no frame header")


def _bmp_size(data: bytes) -> tuple[int, int]:
    (header,) = struct.unpack("<I", data[14:18])
    if header == 12:
        return struct.unpack("<HH", data[18:22])
    width, height = struct.unpack("<ii", data[18:26])
    return abs(width), abs(height)


def _tiff_size(data: bytes) -> tuple[int, int]:
    order = "<" if data[:2] == b"II" else ">"
    (offset,) = struct.unpack(order + "I", data[4:8])
    (count,) = struct.unpack(order + "H", data[offset : offset + 2])
    found: dict[int, int] = {}
    for index in range(count):
        entry = data[offset + 2 + 12 * index : offset + 14 + 12 * index]
        tag, kind = struct.unpack(order + "HH", entry[:4])
        if tag in (256, 257):
            value = struct.unpack(order + ("H" if kind == 3 else "I"), entry[8:10] if kind == 3 else entry[8:12])
            found[tag] = value[0]
    return found[256], found[257]


def _webp_size(data: bytes) -> tuple[int, int]:
    chunk = data[12:16]
    if chunk == b"VP8 ":
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L":
        (bits,) = struct.unpack("<I", data[21:25])
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    raise ValueError("unknown WebP chunk")
