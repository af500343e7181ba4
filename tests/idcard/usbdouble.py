"""A pyusb backend double for a 部标 USB bulk reader (no such device exists on a CI machine).

It implements pyusb's backend interface (descriptors, claim, bulk transfers) so the real pyusb
``core`` and ``util`` code runs; behind the endpoints sits the same ``SamEmulator`` as on the pty.
Only the bottom layer (libusb) is replaced.
"""

from __future__ import annotations

import errno
import threading
from types import SimpleNamespace

import usb.backend
import usb.core

from station.idcard.emulator import SamEmulator
from station.idcard.frames import HEADER_SIZE


def _extra(**fields: object) -> SimpleNamespace:
    return SimpleNamespace(extra_descriptors=[], **fields)


class SamUsbBackend(usb.backend.IBackend):
    def __init__(
        self, emulator: SamEmulator | None = None, vid: int = 0x0400, pid: int = 0xC35A, layout: str = "split"
    ):
        self.emulator = emulator or SamEmulator()
        self.vid, self.pid, self.layout = vid, pid, layout
        self.plugged = True
        self.silent = False
        self.mute_on: tuple[int, int] | None = None  # go silent after queuing the answer to this command
        self._out = bytearray()
        self._in: dict[int, bytearray] = {0x81: bytearray(), 0x85: bytearray()}
        self._configuration = 0
        self._stop = threading.Event()
        self.endpoints = (0x02, 0x06, 0x81, 0x85)

    # -- descriptors ---------------------------------------------------------------------------

    def enumerate_devices(self):
        if self.plugged:
            yield "sam-reader"

    def get_device_descriptor(self, dev):
        return SimpleNamespace(
            bLength=18, bDescriptorType=1, bcdUSB=0x0110, bDeviceClass=0, bDeviceSubClass=0, bDeviceProtocol=0,
            bMaxPacketSize0=64, idVendor=self.vid, idProduct=self.pid, bcdDevice=0x0100, iManufacturer=0,
            iProduct=0, iSerialNumber=0, bNumConfigurations=1, address=7, bus=1, port_number=1,
            port_numbers=(1,), speed=2,
        )  # fmt: skip

    def get_configuration_descriptor(self, dev, config):
        return _extra(
            bLength=9, bDescriptorType=2, wTotalLength=46, bNumInterfaces=1, bConfigurationValue=1,
            iConfiguration=0, bmAttributes=0x80, bMaxPower=50,
        )  # fmt: skip

    def get_interface_descriptor(self, dev, intf, alt, config):
        return _extra(
            bLength=9, bDescriptorType=4, bInterfaceNumber=0, bAlternateSetting=0, bNumEndpoints=4,
            bInterfaceClass=0xFF, bInterfaceSubClass=0, bInterfaceProtocol=0, iInterface=0,
        )  # fmt: skip

    def get_endpoint_descriptor(self, dev, ep, intf, alt, config):
        return _extra(
            bLength=7, bDescriptorType=5, bEndpointAddress=self.endpoints[ep], bmAttributes=0x02,
            wMaxPacketSize=64, bInterval=0, bRefresh=0, bSynchAddress=0,
        )  # fmt: skip

    # -- handles -------------------------------------------------------------------------------

    def _check(self):
        if not self.plugged:
            raise usb.core.USBError("No such device", errno=errno.ENODEV)

    def open_device(self, dev):
        self._check()
        return "handle"

    def close_device(self, dev_handle):
        pass

    def set_configuration(self, dev_handle, config_value):
        self._check()
        self._configuration = config_value

    def get_configuration(self, dev_handle):
        self._check()
        return self._configuration

    def claim_interface(self, dev_handle, intf):
        self._check()

    def release_interface(self, dev_handle, intf):
        pass

    def is_kernel_driver_active(self, dev_handle, intf):
        return False

    # -- bulk transfers ------------------------------------------------------------------------

    def bulk_write(self, dev_handle, ep, intf, data, timeout):
        self._check()
        data = bytes(data)
        if self.layout == "split" and ep == 0x02:
            self._out = bytearray(data)
        else:
            self._out += data
        if len(self._out) >= HEADER_SIZE:
            total = HEADER_SIZE + int.from_bytes(self._out[5:7], "big")
            if len(self._out) >= total:
                request = bytes(self._out[:total])
                answer = self.emulator.handle(request)
                if self.mute_on == (request[7], request[8]):
                    self.silent, self.mute_on = True, None
                self._out.clear()
                if self.layout == "split":  # endpoints are FIFOs: a late answer stays queued
                    self._in[0x81] += answer[:HEADER_SIZE]
                    self._in[0x85] += answer[HEADER_SIZE:]
                else:
                    self._in[0x81] += answer
        return len(data)

    def bulk_read(self, dev_handle, ep, intf, buff, timeout):
        self._check()
        pending = self._in.get(ep, bytearray())
        if self.silent or not pending:
            self._stop.wait(min(timeout, 5000) / 1000)
            raise usb.core.USBTimeoutError("Operation timed out", errno=errno.ETIMEDOUT)
        size = min(len(buff), len(pending), 64 if self.layout == "single" else len(buff))
        for index in range(size):
            buff[index] = pending[index]
        del pending[:size]
        return size
