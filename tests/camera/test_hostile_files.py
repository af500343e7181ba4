"""Hostile files are refused cheaply: image dimensions from the header before any decoding, a pixel
limit with a clear error and exit 2 in bounded memory, OpenCV's errors as sentences, size limits on
card and enrollment files before they are read."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import zlib

import cv2
import numpy as np
import pytest

from station.camera.errors import ImageError
from station.camera.imagefile import MAX_PIXELS, image_size, load_image
from tests.camera.portraits import positive

# Peak resident memory allowed for refusing an image bomb: the interpreter with OpenCV loaded needs
# about 65 MiB; decoding a 20000×20000 bomb took 2.35 GiB before the header check existed.
BOMB_BUDGET_MIB = 128


def _png_bomb(path, side: int):  # type: ignore[no-untyped-def]
    """A real, decodable 1-bit PNG of side×side pixels: tiny on disk, side²×3 bytes once decoded."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    compressor = zlib.compressobj(9)
    row = b"\0" * (1 + (side + 7) // 8)
    idat = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )
    return path


def _measured(*args: str, env: dict | None = None) -> tuple[subprocess.CompletedProcess, float]:  # type: ignore[type-arg]
    """``station ARGS`` in a child of a fresh interpreter, and that child's peak RSS in MiB
    (RUSAGE_CHILDREN of the go-between holds exactly one child)."""
    probe = (
        "import resource, subprocess, sys, json\n"
        "done = subprocess.run([sys.executable, '-m', 'station', *sys.argv[1:]], capture_output=True, text=True)\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "print(json.dumps({'code': done.returncode, 'out': done.stdout, 'err': done.stderr, 'peak_kib': peak}))\n"
    )
    full_env = {**os.environ, "STATION_LANG": "en", **(env or {})}
    run = subprocess.run(
        [sys.executable, "-c", probe, *args], capture_output=True, text=True, env=full_env, timeout=120
    )
    result = json.loads(run.stdout)
    done = subprocess.CompletedProcess(args, result["code"], result["out"], result["err"])
    return done, result["peak_kib"] / 1024


@pytest.mark.parametrize("extension", [".jpg", ".png", ".bmp", ".tiff", ".webp"])
def test_dimensions_come_from_the_header_of_each_format(extension):
    image = np.zeros((123, 321, 3), np.uint8)
    ok, encoded = cv2.imencode(extension, image)
    assert ok
    assert image_size(encoded.tobytes())[1:] == (321, 123)


def test_other_formats_and_garbage_are_refused_by_name(tmp_path):
    for name, content in (("x.gif", b"GIF89a" + b"\0" * 100), ("x.jpg", b"\xff\xd8\xff\xe0" + b"\0" * 10)):
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(ImageError) as refused:
            load_image(path)
        assert refused.value.code in ("image_format", "image_unreadable")


@pytest.mark.parametrize("side", [20_000, 40_000])
def test_an_image_bomb_is_refused_from_its_header_in_bounded_memory(tmp_path, side):
    bomb = _png_bomb(tmp_path / f"bomb-{side}.png", side)
    assert bomb.stat().st_size < 300_000 and side * side > MAX_PIXELS
    done, peak_mib = _measured("photo", "check", str(bomb), "--json")
    assert done.returncode == 2, done.stderr
    error = json.loads(done.stdout)["error"]
    assert error["code"] == "image_too_large" and f"{side}×{side}" in error["message"]["en"]
    assert "Traceback" not in done.stderr
    assert peak_mib < BOMB_BUDGET_MIB, f"{peak_mib:.0f} MiB"


def test_opencv_failures_are_sentences(tmp_path):
    _ok, encoded = cv2.imencode(".png", positive())
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(encoded.tobytes()[: len(encoded) // 3])  # a sound header, half the pixels gone
    lying = tmp_path / "lying.png"
    data = bytearray(encoded.tobytes())
    data[16:24] = struct.pack(">II", 64, 64)  # the header claims another size than the data holds
    lying.write_bytes(bytes(data))
    for path in (truncated, lying):
        with pytest.raises(ImageError) as refused:
            load_image(path)
        assert refused.value.code == "image_unreadable" and "damaged" in refused.value.message.en


def test_oversized_card_and_enrollment_files_are_refused_before_reading(tmp_path, station_home):
    huge = tmp_path / "huge.bin"
    with open(huge, "wb") as handle:
        handle.truncate(2 * 1024**3)  # 2 GiB, sparse: reading it would fill the memory
    photo = tmp_path / "face.jpg"
    cv2.imwrite(str(photo), positive())
    card, card_peak = _measured("capture", "--card", str(huge), "--photo", str(photo), "--json")
    parse, _ = _measured("idcard", "parse", str(huge), "--json")
    enroll, enroll_peak = _measured("enroll", str(huge), "--json")
    for done in (card, parse, enroll):
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        assert "too large" in done.stdout + done.stderr
    assert max(card_peak, enroll_peak) < BOMB_BUDGET_MIB
    assert not list(station_home.glob("station.*"))  # nothing was set up from a refused file
