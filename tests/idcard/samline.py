"""An emulated SAM on the far end of a pty pair: real termios, real pyserial on the near end.

The server thread reads command frames from the pty master, answers through ``SamEmulator`` and can
misbehave on demand: slow replies, fragmented writes, garbage before frames, corrupted checksums,
silence, or a pulled cable (``unplug`` closes the master).
"""

from __future__ import annotations

import os
import select
import threading
import time
import tty

from station.idcard.emulator import SamEmulator
from station.idcard.errors import ChecksumError
from station.idcard.frames import FrameDecoder, build_response


class SamLine:
    def __init__(self, emulator: SamEmulator | None = None) -> None:
        self.emulator = emulator or SamEmulator()
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)
        self.delay = 0.0  # before each reply
        self.chunk = 0  # write replies in pieces of this size (0: whole)
        self.chunk_gap = 0.0
        self.garbage = b""  # sent before each reply
        self.corrupt_next = 0  # corrupt this many replies
        self.silent = False
        self.baud = 0  # > 0: pace replies at this line rate (8N1: 10 bits per byte), like a real UART
        self.received = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="sam-line", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        decoder = FrameDecoder(min_body=3)
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([self.master], [], [], 0.05)
            except (OSError, ValueError):
                return
            if not ready:
                continue
            try:
                data = os.read(self.master, 4096)
            except OSError:
                time.sleep(0.01)  # EIO while no process holds the slave open
                continue
            decoder.feed(data)
            while True:
                try:
                    frame = decoder.take()
                except ChecksumError:
                    self._reply(build_response(0x10))
                    continue
                if frame is None:
                    break
                self.received += 1
                self._reply(self.emulator.handle(frame))

    def _reply(self, answer: bytes) -> None:
        if self.silent:
            return
        if self.delay:
            self._stop.wait(self.delay)
        if self.corrupt_next > 0:
            self.corrupt_next -= 1
            corrupted = bytearray(answer)
            corrupted[len(corrupted) // 2] ^= 0x01
            answer = bytes(corrupted)
        answer = self.garbage + answer
        step = self.chunk or (64 if self.baud else len(answer))
        try:
            for start in range(0, len(answer), step):
                if self.baud:
                    self._stop.wait(len(answer[start : start + step]) * 10 / self.baud)
                os.write(self.master, answer[start : start + step])
                if self.chunk_gap and start + step < len(answer):
                    self._stop.wait(self.chunk_gap)
        except OSError:
            pass

    def write_raw(self, data: bytes) -> None:
        os.write(self.master, data)

    def unplug(self) -> None:
        """The cable is pulled: the far end disappears."""
        self._stop.set()
        self._thread.join(2.0)
        for fd in (self.master,):
            try:
                os.close(fd)
            except OSError:
                pass
        self.master = -1

    def close(self) -> None:
        if self.master != -1:
            self.unplug()
        try:
            os.close(self.slave)
        except OSError:
            pass
