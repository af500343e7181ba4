"""JPEG output: size targeting by binary search on quality, JFIF density, and verification of the bytes.

OpenCV's encoder writes baseline JPEG with a JFIF APP0 header and no EXIF, XMP, ICC or comment
segments; this module sets the profile's dpi in that header and then proves, by reading the bytes
back, that the file has the profile's dimensions, lies inside its byte window, is baseline (SOF0) with
three 8-bit components, carries the density, and holds no metadata segment (docs/photo-profiles.md §6).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import cv2
import numpy as np

from station.camera.errors import EncodeError
from station.camera.profiles import Profile
from station.i18n import Text

_SAMPLING = {
    "4:2:0": cv2.IMWRITE_JPEG_SAMPLING_FACTOR_420,
    "4:2:2": cv2.IMWRITE_JPEG_SAMPLING_FACTOR_422,
    "4:4:4": cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444,
}


@dataclass(frozen=True)
class EncodedJpeg:
    data: bytes
    quality: int


@dataclass(frozen=True)
class JpegInfo:
    """What the marker segments of a JPEG say, read up to the start of scan."""

    width: int
    height: int
    components: int
    precision: int
    frame_marker: int  # 0xC0 baseline, 0xC2 progressive, ...
    density_units: int | None  # 1 = dots per inch
    density: tuple[int, int] | None
    app_markers: tuple[int, ...]  # APPn markers present (0xE0..0xEF)
    has_exif: bool
    has_xmp: bool
    has_icc: bool
    has_comment: bool


def _raw_encode(image: np.ndarray, quality: int, subsampling: str) -> bytes:
    params = [
        cv2.IMWRITE_JPEG_QUALITY, int(quality),
        cv2.IMWRITE_JPEG_OPTIMIZE, 1,  # optimised Huffman tables: smaller, still baseline
        cv2.IMWRITE_JPEG_PROGRESSIVE, 0,
        cv2.IMWRITE_JPEG_SAMPLING_FACTOR, _SAMPLING[subsampling],
    ]  # fmt: skip
    ok, buffer = cv2.imencode(".jpg", image, params)
    if not ok:
        raise EncodeError("encode_failed", Text(zh="JPEG 编码失败", en="JPEG encoding failed"))
    return buffer.tobytes()


def set_jfif_density(data: bytes, dpi: int) -> bytes:
    """Set (or insert) the JFIF APP0 density to ``dpi`` dots per inch."""
    if data[:2] != b"\xff\xd8":
        raise EncodeError("not_jpeg", Text(zh="不是 JPEG 数据", en="not JPEG data"))
    density = struct.pack(">BHH", 1, dpi, dpi)
    if data[2:4] == b"\xff\xe0" and data[6:11] == b"JFIF\x00":
        return data[:13] + density + data[18:]
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00" + b"\x01\x01" + density + b"\x00\x00"
    return data[:2] + app0 + data[2:]


def encode_to_window(image: np.ndarray, profile: Profile) -> EncodedJpeg:
    """The highest quality inside the profile's bounds whose file fits the byte window.

    Binary search on quality (size grows with quality, though not strictly), then a short walk
    from the best candidate in case the non-monotonic steps hid a fitting neighbour.
    """
    bounds = profile.jpeg
    sizes: dict[int, bytes] = {}

    def encoded(q: int) -> bytes:
        if q not in sizes:
            sizes[q] = set_jfif_density(_raw_encode(image, q, bounds.subsampling), profile.dpi)
        return sizes[q]

    lo, hi, best = bounds.quality_min, bounds.quality_max, None
    while lo <= hi:
        q = (lo + hi) // 2
        if len(encoded(q)) > bounds.max_bytes:
            hi = q - 1
        else:
            best, lo = q, q + 1
    if best is None:
        raise EncodeError(
            "jpeg_too_large",
            Text(
                zh=f"即使质量 {bounds.quality_min} 文件仍超过 {bounds.max_bytes} 字节(画面噪点过多,请检查照明)",
                en=f"even at quality {bounds.quality_min} the file exceeds {bounds.max_bytes} bytes (noisy image; check the lighting)",
            ),
        )
    for q in range(best + 1, min(best + 3, bounds.quality_max) + 1):
        if len(encoded(q)) <= bounds.max_bytes:
            best = q
    data = encoded(best)
    if len(data) < bounds.min_bytes:
        raise EncodeError(
            "jpeg_too_small",
            Text(
                zh=f"即使质量 {best} 文件仍小于 {bounds.min_bytes} 字节(画面过于平淡)",
                en=f"even at quality {best} the file is under {bounds.min_bytes} bytes (very flat image)",
            ),
        )
    return EncodedJpeg(data, best)


def inspect_jpeg(data: bytes) -> JpegInfo:
    """Walk the marker segments from SOI to SOS."""
    if len(data) < 4 or data[:2] != b"\xff\xd8":
        raise EncodeError("not_jpeg", Text(zh="不是 JPEG 数据", en="not JPEG data"))
    pos = 2
    frame: tuple[int, int, int, int, int] | None = None
    units = density = None
    apps: list[int] = []
    exif = xmp = icc = comment = False
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise EncodeError("jpeg_corrupt", Text(zh="JPEG 结构损坏", en="corrupt JPEG structure"))
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        body = data[pos + 4 : pos + 2 + length]
        if 0xE0 <= marker <= 0xEF:
            apps.append(marker)
            if marker == 0xE0 and body[:5] == b"JFIF\x00" and len(body) >= 12:
                units, dx, dy = struct.unpack(">BHH", body[7:12])
                density = (dx, dy)
            exif |= marker == 0xE1 and body[:6] == b"Exif\x00\x00"
            xmp |= marker == 0xE1 and body.startswith(b"http://ns.adobe.com/xap/")
            icc |= marker == 0xE2 and body.startswith(b"ICC_PROFILE")
        elif marker == 0xFE:
            comment = True
        elif marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
            precision, height, width, components = struct.unpack(">BHHB", body[:6])
            frame = (marker, precision, height, width, components)
        elif marker == 0xDA:
            break
        pos += 2 + length
    if frame is None:
        raise EncodeError("jpeg_corrupt", Text(zh="JPEG 缺少图像帧头", en="JPEG has no frame header"))
    marker, precision, height, width, components = frame
    return JpegInfo(
        width, height, components, precision, marker, units, density, tuple(apps), exif, xmp, icc, comment
    )


def verify_jpeg(data: bytes, profile: Profile) -> list[Text]:
    """Every way ``data`` misses the profile; empty when the file is right."""
    try:
        info = inspect_jpeg(data)
    except EncodeError as exc:
        return [exc.message]
    problems: list[Text] = []
    if (info.width, info.height) != (profile.width, profile.height):
        problems.append(Text(zh=f"尺寸为 {info.width}×{info.height},应为 {profile.width}×{profile.height}",
                             en=f"size {info.width}×{info.height}, expected {profile.width}×{profile.height}"))  # fmt: skip
    if not profile.jpeg.min_bytes <= len(data) <= profile.jpeg.max_bytes:
        problems.append(Text(zh=f"文件 {len(data)} 字节,应在 {profile.jpeg.min_bytes}–{profile.jpeg.max_bytes} 之间",
                             en=f"file is {len(data)} bytes, expected {profile.jpeg.min_bytes}–{profile.jpeg.max_bytes}"))  # fmt: skip
    if info.frame_marker != 0xC0:
        problems.append(Text(zh="不是基线 JPEG", en="not a baseline JPEG"))
    if info.components != 3 or info.precision != 8:
        problems.append(Text(zh="不是 24 位彩色", en="not 24-bit colour"))
    if info.density_units != 1 or info.density != (profile.dpi, profile.dpi):
        problems.append(Text(zh=f"分辨率标记不是 {profile.dpi} dpi", en=f"density is not {profile.dpi} dpi"))
    if info.has_exif or info.has_xmp or info.has_icc or info.has_comment or set(info.app_markers) - {0xE0}:
        problems.append(
            Text(
                zh="文件含有元数据(EXIF/XMP/ICC/注释)", en="the file carries metadata (EXIF/XMP/ICC/comment)"
            )
        )
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if decoded is None or decoded.shape[:2] != (profile.height, profile.width) or decoded.ndim != 3:
        problems.append(Text(zh="文件无法完整解码", en="the file does not decode cleanly"))
    return problems
