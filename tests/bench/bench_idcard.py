"""Card-reading benchmark: what the station adds on top of the reader's own transfer time.

Measured, each against a baseline taken in the same run on the same transport:
- pty (serial): a full read through ``SerialReader`` (find, select, read base message: decode,
  checksum, parse to ChipData) vs. the raw transfer of the same request frames with pyserial, reading
  exactly the known response lengths and parsing nothing. The emulated SAM runs in its own process,
  once answering instantly (the station's overhead at its largest) and once paced at 115200 baud
  like a real UART (what an officer waits for);
- pcscd + vpcd: a full read through ``PcscReader`` (worker thread, chip serial, page profile, parse)
  vs. connect + the same seven APDUs + disconnect straight through pyscard's ``scard`` calls;
- parsing: ``parse_text`` per card (all four card types) vs. bare UTF-16 decoding of the block.
Real readers add 0.5–1.5 s of RF and SAM crypto on top of the wire time, which only shrinks the
ratios. Target: full read ≤ 1.10 × raw transfer on a paced line.

Run: ``.venv/bin/python -m tests.bench.bench_idcard`` (starts pcscd itself when needed and allowed).
"""

from __future__ import annotations

import multiprocessing
import statistics
import time

import serial as pyserial

from station.idcard import commands as cmd
from station.idcard.transports.base import SamOptions
from station.idcard.transports.serial import SerialReader
from sync.protocol.chiptext import parse_text
from tests.idcard import cards
from tests.idcard.samline import SamLine

ROUNDS = 40


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def _line(name: str, value: float, baseline_name: str, baseline: float, unit: str = "ms") -> None:
    print(f"{name:<34} {value:9.3f} {unit}   baseline {baseline_name:<28} {baseline:9.3f} {unit}"
          f"   ratio {value / baseline:5.2f}")  # fmt: skip


def _sam_process(conn, baud: int) -> None:
    """The emulated SAM in its own process, so it never competes with the reader for the GIL."""
    line = SamLine()
    line.baud = baud
    chip = cards.resident()
    conn.send(line.path)
    while (message := conn.recv()) != "stop":
        if message == "place":
            line.emulator.place(chip)
            conn.send("ok")
    line.close()


def bench_pty(baud: int = 0, rounds: int = ROUNDS) -> None:
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.get_context("fork").Process(
        target=_sam_process, args=(child, baud), daemon=True
    )
    process.start()
    path = parent.recv()
    requests = [cmd.FIND_CARD, cmd.SELECT_CARD, cmd.READ_BASE]
    sizes = [7 + 4 + 4, 7 + 4 + 8, 1295]
    full, raw = [], []
    reader = SerialReader(path, options=SamOptions(read_sam_id=False))
    reader.open()
    port = pyserial.Serial(path, 115200, timeout=2.0)

    def place() -> None:
        parent.send("place")
        parent.recv()

    try:
        for _ in range(rounds):
            place()
            started = time.perf_counter()
            reader.read_card(timeout=5)
            full.append(time.perf_counter() - started)

            place()
            started = time.perf_counter()
            for request, size in zip(requests, sizes, strict=True):
                port.reset_input_buffer()
                port.write(request)
                got = port.read(size)
                assert len(got) == size
            raw.append(time.perf_counter() - started)
    finally:
        port.close()
        reader.close()
        parent.send("stop")
        process.join(5)
    label = f"pty @ {baud} baud: full read" if baud else "pty, instant SAM: full read"
    _line(label, _median_ms(full), "raw transfer, same frames", _median_ms(raw))


def bench_pcsc() -> None:
    from smartcard import scard

    from station.idcard.transports.pcsc import PcscReader, load_profiles
    from tests.idcard.conftest import VPCD_PORT, VPCD_READER, Pcscd, _socket_alive
    from tests.idcard.vcard import VirtualIdCard

    daemon = Pcscd()
    if _socket_alive():
        daemon.wait_ready(10)
    else:
        daemon.start()
    chip = cards.resident()
    card = VirtualIdCard(chip.raw_text, chip.raw_wlt, port=VPCD_PORT).insert()
    profiles = load_profiles()
    apdus = [profiles.chip_serial_apdu] + [page.apdu for page in profiles.profiles[0].pages]
    reader = PcscReader(VPCD_READER)
    try:
        deadline = time.monotonic() + 5
        while not reader.card_present() and time.monotonic() < deadline:
            time.sleep(0.05)
        full, raw = [], []
        _, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        for _ in range(ROUNDS // 2):
            started = time.perf_counter()
            reader.read_card(timeout=5)
            full.append(time.perf_counter() - started)

            started = time.perf_counter()
            _, handle, protocol = scard.SCardConnect(
                context,
                VPCD_READER,
                scard.SCARD_SHARE_SHARED,
                scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1,
            )
            scard.SCardStatus(handle)
            for apdu in apdus:
                hresult, _response = scard.SCardTransmit(handle, protocol, list(apdu))
                assert hresult == scard.SCARD_S_SUCCESS
            scard.SCardDisconnect(handle, scard.SCARD_LEAVE_CARD)
            raw.append(time.perf_counter() - started)
        scard.SCardReleaseContext(context)
    finally:
        reader.close()
        card.remove()
        if daemon.owned:
            daemon.stop()
    _line("pcscd: full read (serial+6 pages)", _median_ms(full), "raw APDUs via scard", _median_ms(raw))


def bench_parse() -> None:
    blocks = [chip.raw_text for chip in cards.all_types()]
    repeats = 400
    started = time.perf_counter()
    for _ in range(repeats):
        for block in blocks:
            parse_text(block)
    parse_us = (time.perf_counter() - started) / (repeats * len(blocks)) * 1e6
    started = time.perf_counter()
    for _ in range(repeats):
        for block in blocks:
            block.decode("utf-16-le")
    decode_us = (time.perf_counter() - started) / (repeats * len(blocks)) * 1e6
    _line("parse_text per card", parse_us, "bare UTF-16 decode of block", decode_us, unit="µs")


def main() -> None:
    print(__doc__.strip().splitlines()[0])
    bench_parse()
    bench_pty()
    bench_pty(baud=115200, rounds=10)
    try:
        bench_pcsc()
    except Exception as error:  # no pcscd / vpcd on this machine
        print(f"pcscd: skipped ({type(error).__name__}: {error})")


if __name__ == "__main__":
    main()
