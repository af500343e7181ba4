"""WLT photo: ctypes bindings (unpack / GetBmp) against a gcc-compiled shim, and the placeholder."""

from __future__ import annotations

import struct

import pytest

from station.idcard.errors import PhotoDecodeError
from station.idcard.wlt import BMP_SIZE, WltDecoder, bmp_from_rgb, photo_for, placeholder_bmp
from tests.idcard import cards


def _bmp_header(bmp: bytes) -> tuple[int, int, int]:
    size = struct.unpack_from("<I", bmp, 2)[0]
    width, height = struct.unpack_from("<ii", bmp, 18)
    return size, width, height


@pytest.mark.parametrize("kind", ["unpack", "getbmp"])
def test_decoder_bindings(shim_libs, kind):
    decoder = WltDecoder(shim_libs["wlt_shim"], kind=kind)
    assert decoder.kind == kind
    wlt = cards.resident().raw_wlt
    bmp = decoder.decode(wlt)
    assert len(bmp) == BMP_SIZE == 38862 and bmp[:2] == b"BM"
    assert _bmp_header(bmp) == (38862, 102, 126)
    # top-left pixel of the image is stored in the last row, as BGR
    top_left_bgr = bmp[54 + 125 * 308 : 54 + 125 * 308 + 3]
    assert top_left_bgr == bytes([wlt[2], wlt[1], wlt[0]])


def test_both_bindings_agree(shim_libs):
    wlt = cards.hmt_permit().raw_wlt
    a = WltDecoder(shim_libs["wlt_shim"], kind="unpack").decode(wlt)
    b = WltDecoder(shim_libs["wlt_shim"], kind="getbmp").decode(wlt)
    assert a[54:] == b[54:]  # same pixels (headers differ only in the resolution fields)


def test_decode_failures_fall_back_to_placeholder(shim_libs):
    decoder = WltDecoder(shim_libs["wlt_shim"])
    with pytest.raises(PhotoDecodeError):
        decoder.decode(b"\xff\xff" + b"\0" * 1022)
    with pytest.raises(PhotoDecodeError):
        decoder.decode(b"short")
    result = photo_for(b"\xff\xff" + b"\0" * 1022, decoder)
    assert not result.decoded and result.reason is not None and result.bmp == placeholder_bmp()


def test_getbmp_error_codes_are_explained(shim_libs):
    decoder = WltDecoder(shim_libs["wlt_shim"], kind="getbmp")
    with pytest.raises(PhotoDecodeError) as caught:
        decoder.decode(b"\xff\xff" + b"\0" * 1022)
    assert "GetBmp returned -1" in caught.value.detail and caught.value.message.zh


def test_no_decoder_configured():
    result = photo_for(cards.resident().raw_wlt, None)
    assert not result.decoded and "placeholder" in result.reason.en
    assert _bmp_header(result.bmp) == (38862, 102, 126)


def test_library_problems_are_typed(tmp_path, shim_libs):
    with pytest.raises(PhotoDecodeError):
        WltDecoder(tmp_path / "libnothing.so")
    with pytest.raises(PhotoDecodeError):
        WltDecoder(shim_libs["sdtapi_shim"])  # loads, but exports no decoder


def test_bmp_from_rgb_layout():
    rgb = bytes([1, 2, 3]) + bytes(3 * 101) + bytes(3 * 102 * 125)
    bmp = bmp_from_rgb(rgb)
    assert bmp[54 + 125 * 308 : 54 + 125 * 308 + 3] == bytes([3, 2, 1])
