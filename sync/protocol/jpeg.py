"""JPEG headers read without decoding the image: dimensions, components, and "is this a JPEG at all".

Both ends use it: the station to declare a photo's size in the wire record, the registry to check
that declaration against the bytes it stored (a "photo" that is a text file is refused). Only
the marker segments before the first scan are read, each bounds-checked, so a hostile file costs a few
microseconds and never a decode. What it insists on: SOI first, well-formed segments, quantisation
and (for Huffman coding) Huffman tables and exactly one frame header before the first scan, a
baseline, extended or progressive Huffman frame of 8-bit samples, and EOI as the last two bytes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

SOI, EOI, SOS, DQT, DHT = 0xD8, 0xD9, 0xDA, 0xDB, 0xC4
# Huffman-coded frames: baseline, extended sequential, progressive (what encoders write for photos).
HUFFMAN_FRAMES = {0xC0: "baseline", 0xC1: "extended", 0xC2: "progressive"}
# Every other start-of-frame marker (lossless, hierarchical, arithmetic coding): valid JPEG, not a photo here.
OTHER_FRAMES = frozenset((0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF))
_STANDALONE = frozenset((0x01, *range(0xD0, 0xD8)))


class NotJpeg(ValueError):
    """The bytes are not a JPEG this project accepts; the message names the structural problem."""


@dataclass(frozen=True)
class JpegHeader:
    width: int
    height: int
    components: int  # 3 for colour (YCbCr), 1 for grey
    precision: int  # bits per sample
    coding: str  # baseline | extended | progressive


def jpeg_header(data: bytes) -> JpegHeader:
    """The frame header of a JPEG file; ``NotJpeg`` for anything else (truncated files included)."""
    if len(data) < 4 or data[0] != 0xFF or data[1] != SOI:
        raise NotJpeg("no start-of-image marker")
    if data[-2] != 0xFF or data[-1] != EOI:
        raise NotJpeg("no end-of-image marker at the end (truncated?)")
    index = 2
    header: JpegHeader | None = None
    seen: set[int] = set()
    while True:
        if index >= len(data) or data[index] != 0xFF:
            raise NotJpeg("a marker segment is malformed")
        while index < len(data) and data[index] == 0xFF:  # fill bytes may precede a marker
            index += 1
        if index >= len(data):
            raise NotJpeg("the file ends inside a marker")
        marker = data[index]
        index += 1
        if marker in _STANDALONE:
            continue
        if marker in (SOI, EOI):
            raise NotJpeg("an image marker appears before the first scan")
        if index + 2 > len(data):
            raise NotJpeg("the file ends inside a marker")
        (length,) = struct.unpack_from(">H", data, index)
        if length < 2 or index + length > len(data):
            raise NotJpeg("a marker segment overruns the file")
        segment = data[index + 2 : index + length]
        index += length
        seen.add(marker)
        if marker in OTHER_FRAMES:
            raise NotJpeg("not a baseline, extended or progressive Huffman JPEG")
        if marker in HUFFMAN_FRAMES:
            if header is not None:
                raise NotJpeg("more than one frame header")
            header = _frame(segment, HUFFMAN_FRAMES[marker])
        elif marker == SOS:
            break
    if header is None:
        raise NotJpeg("no frame header before the first scan")
    if DQT not in seen or DHT not in seen:
        raise NotJpeg("quantisation or Huffman tables are missing")
    return header


def _frame(segment: bytes, coding: str) -> JpegHeader:
    if len(segment) < 6:
        raise NotJpeg("the frame header is too short")
    precision, height, width, components = struct.unpack_from(">BHHB", segment)
    if len(segment) != 6 + 3 * components or components not in (1, 3):
        raise NotJpeg("the frame header describes an unusual component layout")
    if precision != 8 or width == 0 or height == 0:
        raise NotJpeg("the frame header has no usable size or sample precision")
    return JpegHeader(width, height, components, precision, coding)


def jpeg_dimensions(data: bytes) -> tuple[int, int]:
    """(width, height) of a JPEG; ``NotJpeg`` (a ValueError) if it is not one."""
    header = jpeg_header(data)
    return header.width, header.height
