"""A virtual ID-card reader slot for the real pcscd: the card side of the vsmartcard ``vpcd`` protocol.

vpcd (the pcscd driver) listens on 127.0.0.1:<port>; the virtual card connects and then answers
2-byte big-endian length-prefixed messages: a 1-byte 00 power off, 01 power on, 02 reset, 04 get ATR,
anything longer is an APDU. Connected = card present; closing the socket = card removed.
The card answers the chip-serial APDU and the ``FF B0 <page> 00 00`` page profile with synthetic data.
"""

from __future__ import annotations

import socket
import struct
import threading
import time

# Type B style ATR with 90 00 at bytes 13-14, the marker the readinfo profile checks.
ATR_PROFILE = bytes.fromhex("3B8880 01D1038605008080 00 58 9000".replace(" ", ""))
ATR_TYPE_B = bytes.fromhex("3B888001D103860500808000 58".replace(" ", ""))


class VirtualIdCard:
    def __init__(
        self,
        text: bytes,
        photo: bytes,
        chip_serial: bytes = bytes.fromhex("0123456789ABCDEF"),
        atr: bytes = ATR_PROFILE,
        port: int = 35963,
        remove_at_page: int | None = None,
        silent_at_page: int | None = None,
        serves_pages: bool = True,
    ) -> None:
        self.text, self.photo, self.chip_serial, self.atr, self.port = text, photo, chip_serial, atr, port
        self.remove_at_page = remove_at_page
        self.silent_at_page = silent_at_page
        self.serves_pages = serves_pages
        self.apdus: list[bytes] = []
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def insert(self, timeout: float = 5.0) -> VirtualIdCard:
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._sock = socket.create_connection(("127.0.0.1", self.port), timeout=1.0)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self._sock.settimeout(0.2)
        self._stop.clear()
        self._thread = threading.Thread(target=self._serve, name="vcard", daemon=True)
        self._thread.start()
        return self

    def remove(self) -> None:
        self._stop.set()
        sock, self._sock = self._sock, None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(2.0)

    def _recv_exact(self, size: int) -> bytes | None:
        data = b""
        while len(data) < size:
            if self._stop.is_set() or self._sock is None:
                return None
            try:
                chunk = self._sock.recv(size - len(data))
            except TimeoutError:
                continue
            except OSError:
                return None
            if not chunk:
                return None
            data += chunk
        return data

    def _send(self, payload: bytes) -> None:
        if self._sock is not None:
            self._sock.sendall(struct.pack(">H", len(payload)) + payload)

    def _serve(self) -> None:
        while not self._stop.is_set():
            head = self._recv_exact(2)
            if head is None:
                return
            message = self._recv_exact(struct.unpack(">H", head)[0])
            if message is None:
                return
            if len(message) == 1:
                if message[0] == 0x04:
                    self._send(self.atr)
                continue
            self.apdus.append(message)
            answer = self.answer(message)
            if answer is None:
                return
            try:
                self._send(answer)
            except OSError:
                return

    def answer(self, apdu: bytes) -> bytes | None:
        """The response to one APDU; None means the card vanished (socket closed) or went silent."""
        if apdu[:4] == b"\x00\x36\x00\x00":
            return self.chip_serial + b"\x90\x00"
        if apdu[:2] == b"\xff\xb0" and self.serves_pages:
            page = apdu[2]
            if page == self.remove_at_page:
                threading.Thread(target=self.remove, daemon=True).start()
                return None
            if page == self.silent_at_page:
                self._stop.wait(30)
                return None
            return self.page(page) + b"\x90\x00"
        return b"\x6d\x00"

    def page(self, page: int) -> bytes:
        header = bytes([0x01, page, 0x00, 0x00])
        if page == 0:
            return header + self.text
        if page == 1:
            return header + self.photo[:252]
        if 2 <= page <= 4:
            start = 252 + (page - 2) * 256
            return self.photo[start : start + 256]
        if page == 5:
            return self.photo[1020:1024]
        return b""
