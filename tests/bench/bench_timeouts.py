"""How long a reader takes to give up on a silent device, against the timeout it was asked to keep.

The tests assert *that* a silent reader raises ``ReaderTimeoutError`` and recovers; how long it takes is a
figure, measured here against the named baseline of the same run: the timeout the caller asked for.
A ratio near 1.0 means the caller waits what it asked for and no longer; the desk's budget is 1.5.

- serial: a pty pair whose emulated SAM stopped answering (``SerialReader``);
- usb: the bulk-transfer double gone silent (``UsbReader``);
- sdk: a vendor library (gcc-built shim) that blocks inside C for longer than the call timeout.

Run: ``.venv/bin/python -m tests.bench.bench_timeouts``
"""

from __future__ import annotations

import ctypes
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from station.idcard.errors import ReaderTimeoutError
from station.idcard.transports.base import SamOptions, SamTimeouts
from station.idcard.transports.sdk import SdkReader
from station.idcard.transports.serial import SerialReader
from station.idcard.transports.usb import UsbReader, model_for
from tests.idcard import cards
from tests.idcard.samline import SamLine
from tests.idcard.usbdouble import SamUsbBackend

ROUNDS = 5
OPTIONS = SamOptions(timeouts=SamTimeouts(status=0.5, find=0.3, select=0.3, read=0.5, other=0.3))


def _timed_out(read, timeout: float) -> float:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    try:
        read(timeout)
    except ReaderTimeoutError:
        return time.monotonic() - started
    raise AssertionError("the silent reader did not time out")


def _line(name: str, seconds: list[float], timeout: float) -> None:
    value = statistics.median(seconds)
    print(f"{name:<28} {value * 1000:8.1f} ms   baseline requested timeout {timeout * 1000:8.1f} ms"
          f"   ratio {value / timeout:5.2f}   worst {max(seconds) / timeout:5.2f}")  # fmt: skip


def bench_serial(timeout: float = 0.6) -> None:
    line = SamLine()
    line.emulator.place(cards.resident())
    line.silent = True
    try:
        with SerialReader(line.path, options=OPTIONS) as reader:
            _line(
                "serial, silent SAM", [_timed_out(reader.read_card, timeout) for _ in range(ROUNDS)], timeout
            )
    finally:
        line.close()


def bench_usb(timeout: float = 0.5) -> None:
    backend = SamUsbBackend()
    backend.emulator.place(cards.resident())
    with UsbReader(model_for(0x0400, 0xC35A), backend=backend, options=OPTIONS) as reader:
        backend.silent = True
        _line("usb, silent device", [_timed_out(reader.read_card, timeout) for _ in range(ROUNDS)], timeout)


def bench_sdk(timeout: float = 0.3) -> None:
    gcc = shutil.which("gcc")
    if gcc is None:
        print("sdk: skipped (needs gcc)")
        return
    shims = Path(__file__).resolve().parents[1] / "idcard" / "shims"
    with tempfile.TemporaryDirectory() as tmp:
        library = Path(tmp) / "libsdtapi_shim.so"
        subprocess.run([gcc, "-shared", "-fPIC", "-O1", "-o", str(library), str(shims / "sdtapi_shim.c")],
                       check=True, timeout=60)  # fmt: skip
        shim = ctypes.CDLL(str(library))
        chip = cards.resident()
        shim.shim_set_card(chip.raw_text, chip.raw_wlt, None, 0)
        shim.shim_configure(1001, 0x90, 700, 0)  # every find blocks 0.7 s inside C
        samples = []
        for _ in range(ROUNDS):
            reader = SdkReader(str(library), call_timeout=timeout)
            reader.open()
            stuck = reader._worker
            samples.append(_timed_out(reader.read_card, timeout))
            stuck.call(lambda: None, timeout=10)  # wait for the blocked call before the next round
            reader.close()
        shim.shim_configure(1001, 0x90, 0, 0)
        _line("sdk, library blocks in C", samples, timeout)


if __name__ == "__main__":
    bench_serial()
    bench_usb()
    bench_sdk()
