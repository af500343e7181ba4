"""USB bulk readers (the ministry-standard "部标" interface) through pyusb.

The same SAM frames as on a serial line, carried over bulk endpoints: preamble+LEN and CMD…CHK go
out on two endpoints (0x02, 0x06), the answer comes back as preamble+LEN (0x81) and SW…CHK (0x85).
Known VID:PID pairs and their endpoint layout are configuration (``resources/idcard/usb_devices.json``).
"""

from __future__ import annotations

import errno
import json
from dataclasses import dataclass
from typing import Any

import usb.core
import usb.util

from station.idcard.errors import NoReaderError, ReaderGoneError, ReaderSpecError, ReaderTimeoutError
from station.idcard.frames import HEADER_SIZE
from station.idcard.transports.base import ReaderInfo, SamOptions, SamReader, StreamChannel
from sync.protocol.resources import resource_path

PACKET = 64


@dataclass(frozen=True)
class UsbModel:
    vid: int
    pid: int
    name: str
    layout: str = "split"
    out_header: int = 0x02
    out_body: int = 0x06
    in_header: int = 0x81
    in_body: int = 0x85
    interface: int = 0

    @property
    def spec(self) -> str:
        return f"usb:{self.vid:04x}:{self.pid:04x}"


def known_models() -> list[UsbModel]:
    data = json.loads(resource_path("idcard", "usb_devices.json").read_text("utf-8"))
    return [
        UsbModel(
            vid=int(entry["vid"], 16),
            pid=int(entry["pid"], 16),
            name=entry["name"],
            layout=entry["layout"],
            out_header=int(entry["out_header"], 16),
            out_body=int(entry["out_body"], 16),
            in_header=int(entry["in_header"], 16),
            in_body=int(entry["in_body"], 16),
            interface=int(entry.get("interface", 0)),
        )
        for entry in data["devices"]
    ]


def _map_usb_error(error: usb.core.USBError) -> Exception:
    if isinstance(error, usb.core.USBTimeoutError):
        return ReaderTimeoutError(detail="usb")
    if (
        error.errno in (errno.ENODEV, errno.EIO, errno.EPIPE)
        or getattr(error, "backend_error_code", None) == -4
    ):
        return ReaderGoneError(detail="usb")
    return ReaderGoneError(detail=f"usb error {error.errno}")


class UsbBulkChannel(StreamChannel):
    """Frames over bulk endpoints. Reads pull what the frame decoder still needs, a packet at a time."""

    def __init__(self, device: Any, model: UsbModel) -> None:
        self._device = device
        self._model = model
        self._next_in = model.in_header
        try:
            try:
                device.set_configuration()
            except usb.core.USBError:
                pass  # already configured by the kernel or another claim
            try:
                if device.is_kernel_driver_active(model.interface):
                    device.detach_kernel_driver(model.interface)
            except (NotImplementedError, usb.core.USBError):
                pass
            usb.util.claim_interface(device, model.interface)
        except usb.core.USBError as error:
            raise _map_usb_error(error) from None

    def _discard_input(self) -> None:
        if not self._dirty:
            return
        for endpoint in {self._model.in_header, self._model.in_body}:
            for _ in range(64):  # bounded: a babbling device cannot keep us here
                try:
                    self._device.read(endpoint, 4096, 5)
                except usb.core.USBTimeoutError:
                    break
                except usb.core.USBError as error:
                    raise _map_usb_error(error) from None

    def _write(self, data: bytes, timeout: float) -> None:
        ms = max(1, int(timeout * 1000))
        try:
            if self._model.layout == "split":
                self._device.write(self._model.out_header, data[:HEADER_SIZE], ms)
                self._device.write(self._model.out_body, data[HEADER_SIZE:], ms)
            else:
                self._device.write(self._model.out_header, data, ms)
        except usb.core.USBError as error:
            raise _map_usb_error(error) from None
        self._next_in = self._model.in_header

    def _read(self, size: int, timeout: float) -> bytes:
        ms = max(1, int(timeout * 1000))
        endpoint = self._next_in
        want = -(-size // PACKET) * PACKET
        try:
            data = bytes(self._device.read(endpoint, want, ms))
        except usb.core.USBTimeoutError:
            return b""
        except usb.core.USBError as error:
            raise _map_usb_error(error) from None
        if self._model.layout == "split" and endpoint == self._model.in_header:
            self._next_in = self._model.in_body  # header arrived: the rest comes on the body endpoint
        return data

    def close(self) -> None:
        try:
            usb.util.release_interface(self._device, self._model.interface)
            usb.util.dispose_resources(self._device)
        except usb.core.USBError:
            pass


class UsbReader(SamReader):
    def __init__(self, model: UsbModel, backend: Any = None, options: SamOptions | None = None) -> None:
        super().__init__(ReaderInfo(model.spec, "usb", f"{model.name} (USB bulk {model.spec[4:]})"), options)
        self.model = model
        self.backend = backend

    def _open_channel(self) -> UsbBulkChannel:
        try:
            device = usb.core.find(idVendor=self.model.vid, idProduct=self.model.pid, backend=self.backend)
        except usb.core.NoBackendError:
            raise NoReaderError(detail="libusb is not installed") from None
        if device is None:
            raise ReaderGoneError(detail=f"no USB device {self.model.spec[4:]}")
        return UsbBulkChannel(device, self.model)


def parse_vid_pid(text: str) -> tuple[int, int]:
    try:
        vid, pid = text.split(":")
        return int(vid, 16), int(pid, 16)
    except ValueError:
        raise ReaderSpecError(detail="USB reader spec is usb:VID:PID in hex, e.g. usb:0400:c35a") from None


def model_for(vid: int, pid: int) -> UsbModel:
    for model in known_models():
        if (model.vid, model.pid) == (vid, pid):
            return model
    return UsbModel(vid, pid, "USB SAM reader (layout assumed)")


def connected_models(backend: Any = None) -> list[UsbModel]:
    """Known reader models currently plugged in (none when libusb is missing)."""
    found = []
    for model in known_models():
        try:
            if usb.core.find(idVendor=model.vid, idProduct=model.pid, backend=backend) is not None:
                found.append(model)
        except (usb.core.NoBackendError, usb.core.USBError, ValueError):
            return found
    return found
