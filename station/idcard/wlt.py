"""The chip photo (WLT): keep the raw 1024 bytes, decode through a vendor library when configured.

WLT is a patented, undocumented format; only vendor binaries decode it. Two bindings:
- ``unpack``: Linux/Android ``int unpack(char *src, char *dst, int mode)`` (C++ name ``_Z6unpackPcS_i``),
  filling ``dst`` with 102×126 RGB (38,556 bytes) which we wrap into a BMP (BGR, bottom-up);
- ``getbmp``: Windows ``int GetBmp(char *wltFile, int intf)`` writing ``<basename>.bmp`` beside the file
  (done in a private temporary directory removed straight after).
Without a library the station shows ``placeholder_bmp()`` and says why.
"""

from __future__ import annotations

import ctypes
import os
import struct
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from station.i18n import Text
from station.idcard.errors import PhotoDecodeError

WIDTH, HEIGHT = 102, 126
RAW_SIZE = WIDTH * HEIGHT * 3  # 38,556
BMP_SIZE = 54 + HEIGHT * 308  # 38,862
WLT_SIZE = 1024

_GETBMP_ERRORS = {
    0: Text(zh="读卡器接口库（sdtapi）错误", en="Reader interface library (sdtapi) error"),
    -1: Text(zh="照片解码错误", en="Photo decoding error"),
    -2: Text(zh="照片文件后缀不是 .wlt", en="The photo file suffix is not .wlt"),
    -3: Text(zh="照片文件无法打开", en="The photo file cannot be opened"),
    -4: Text(zh="照片文件格式错误", en="The photo file format is wrong"),
    -5: Text(
        zh="解码库未授权或与读卡器不匹配", en="The decoder is not licensed or does not match the reader"
    ),
    -6: Text(zh="读卡器连接错误", en="Reader connection error"),
}


def bmp_from_rgb(rgb: bytes, width: int = WIDTH, height: int = HEIGHT) -> bytes:
    """A 24-bit BMP from top-down RGB rows (BMP wants bottom-up BGR rows padded to 4 bytes)."""
    row = width * 3
    pad = (4 - row % 4) % 4
    rows = []
    for y in range(height - 1, -1, -1):
        line = bytearray(rgb[y * row : (y + 1) * row])
        line[0::3], line[2::3] = line[2::3], line[0::3]
        rows.append(bytes(line) + b"\0" * pad)
    pixels = b"".join(rows)
    header = b"BM" + struct.pack("<IHHI", 54 + len(pixels), 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, len(pixels), 2835, 2835, 0, 0)
    return header + info + pixels


def placeholder_bmp() -> bytes:
    """A neutral grey head-and-shoulders silhouette shown when no decoder is configured."""
    rgb = bytearray(b"\xd8" * RAW_SIZE)
    for y in range(HEIGHT):
        for x in range(WIDTH):
            head = ((x - 51) / 24) ** 2 + ((y - 48) / 30) ** 2 <= 1
            shoulders = y > 88 and abs(x - 51) < 14 + (y - 88) * 1.2
            if head or shoulders:
                rgb[(y * WIDTH + x) * 3 : (y * WIDTH + x) * 3 + 3] = b"\x9a\x9a\x9a"
    return bmp_from_rgb(bytes(rgb))


@dataclass(frozen=True)
class PhotoResult:
    """The photo to show: ``decoded`` False means ``bmp`` is the placeholder and ``reason`` says why."""

    bmp: bytes
    decoded: bool
    reason: Text | None = None


NO_DECODER = Text(
    zh="未配置照片解码库，显示占位图（原始照片数据已保存）",
    en="No photo decoder is configured; showing a placeholder (the raw photo data is kept)",
)


class WltDecoder:
    """A vendor WLT decoder loaded with ctypes. ``kind`` is ``unpack`` or ``getbmp`` (auto by symbol)."""

    def __init__(
        self, library: str | os.PathLike[str], kind: str | None = None, mode: int = 0, intf: int = 2
    ):
        try:
            self._lib = ctypes.WinDLL(str(library)) if sys.platform == "win32" else ctypes.CDLL(str(library))  # type: ignore[attr-defined]
        except OSError as error:
            raise PhotoDecodeError(
                Text(zh="照片解码库无法加载", en="The photo decoder library cannot be loaded"),
                code="wlt_library",
                detail=type(error).__name__,
            ) from None
        self._mode, self._intf = mode, intf
        self._unpack = None
        self._getbmp = None
        if kind in (None, "unpack"):
            for symbol in ("_Z6unpackPcS_i", "unpack"):
                if hasattr(self._lib, symbol):
                    self._unpack = getattr(self._lib, symbol)
                    self._unpack.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int]
                    self._unpack.restype = ctypes.c_int
                    break
        if self._unpack is None and kind in (None, "getbmp") and hasattr(self._lib, "GetBmp"):
            self._getbmp = self._lib.GetBmp
            self._getbmp.argtypes = [ctypes.c_char_p, ctypes.c_int]
            self._getbmp.restype = ctypes.c_int
        if self._unpack is None and self._getbmp is None:
            raise PhotoDecodeError(
                Text(
                    zh="照片解码库缺少 unpack/GetBmp 函数",
                    en="The photo decoder exports neither unpack nor GetBmp",
                ),
                code="wlt_symbol",
            )
        self.kind = "unpack" if self._unpack is not None else "getbmp"

    def decode(self, wlt: bytes) -> bytes:
        """Decode 1024 WLT bytes to a BMP file image; PhotoDecodeError with the vendor's reason."""
        if len(wlt) != WLT_SIZE:
            raise PhotoDecodeError(detail=f"{len(wlt)} bytes", code="wlt_size")
        if self._unpack is not None:
            out = ctypes.create_string_buffer(RAW_SIZE + 1024)  # slack: some builds write past 38,556
            result = self._unpack(bytes(wlt), out, self._mode)
            if result <= 0:
                raise PhotoDecodeError(detail=f"unpack returned {result}", code="wlt_decode")
            return bmp_from_rgb(out.raw[:RAW_SIZE])
        return self._decode_via_file(wlt)

    def _decode_via_file(self, wlt: bytes) -> bytes:
        assert self._getbmp is not None
        with tempfile.TemporaryDirectory(prefix="wlt-") as folder:
            source = Path(folder) / "zp.wlt"
            source.write_bytes(wlt)
            result = self._getbmp(str(source).encode(sys.getfilesystemencoding()), self._intf)
            if result != 1:
                message = _GETBMP_ERRORS.get(result, _GETBMP_ERRORS[-1])
                raise PhotoDecodeError(message, code="wlt_decode", detail=f"GetBmp returned {result}")
            target = source.with_suffix(".bmp")
            if not target.exists():
                raise PhotoDecodeError(detail="GetBmp wrote no file", code="wlt_decode")
            return target.read_bytes()


def photo_for(wlt: bytes, decoder: WltDecoder | None) -> PhotoResult:
    """The photo to show for ``wlt``: decoded when possible, else the placeholder with the reason."""
    if decoder is None:
        return PhotoResult(placeholder_bmp(), False, NO_DECODER)
    try:
        return PhotoResult(decoder.decode(wlt), True)
    except PhotoDecodeError as error:
        return PhotoResult(placeholder_bmp(), False, error.message)
