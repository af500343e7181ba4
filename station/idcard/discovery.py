"""Finding readers and opening one from a spec string.

Specs: ``auto``, ``serial:/dev/ttyUSB0``, ``pcsc:<reader name>``, ``usb:0400:c35a``, ``sdk:<library>``
(optionally ``#port``) and ``sim`` (optionally ``sim:seed=3,fault=no_card``). ``auto`` tries PC/SC
readers first, then known USB devices, then serial ports answering the SAM status frame.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from station.idcard.errors import IdCardError, NoReaderError, ReaderSpecError
from station.idcard.transports.base import Reader, ReaderInfo


@dataclass
class DiscoveryOptions:
    """What ``auto`` may try. Tests and the bench pass explicit ports and a USB backend."""

    # None: the ports the system lists; the settings (STATION_IDCARD_SERIAL_PORTS) may narrow them.
    serial_ports: Iterable[str] | None = None
    probe_timeout: float = 2.0
    usb_backend: Any = None
    sdk_libraries: list[str] = field(default_factory=list)  # vendor libraries to try (settings)
    use_pcsc: bool = True
    use_usb: bool = True
    use_serial: bool = True


def options_from(runtime: Any) -> DiscoveryOptions:
    """Where to look, as the run's settings say (``station.config.Runtime``: vendor libraries, serial ports)."""
    ports = list(runtime.idcard_serial_ports) if runtime.idcard_serial_ports is not None else None
    return DiscoveryOptions(serial_ports=ports, sdk_libraries=list(runtime.idcard_sdk))


def list_readers(options: DiscoveryOptions | None = None) -> list[ReaderInfo]:
    """Every reader found, in the order ``auto`` would try them. Never raises for a missing stack."""
    options = options or DiscoveryOptions()
    found: list[ReaderInfo] = []
    if options.use_pcsc:
        found += _pcsc_infos()
    if options.use_usb:
        found += _usb_infos(options)
    for library in options.sdk_libraries:
        found.append(ReaderInfo(f"sdk:{library}", "sdk", "vendor SDK library (configured)"))
    if options.use_serial:
        found += _serial_infos(options)
    return found


def _pcsc_infos() -> list[ReaderInfo]:
    try:
        from station.idcard.transports.pcsc import list_reader_names

        return [ReaderInfo(f"pcsc:{name}", "pcsc", "PC/SC reader") for name in list_reader_names()]
    except (IdCardError, ImportError):
        return []


def _usb_infos(options: DiscoveryOptions) -> list[ReaderInfo]:
    try:
        from station.idcard.transports.usb import connected_models

        return [ReaderInfo(m.spec, "usb", m.name) for m in connected_models(options.usb_backend)]
    except ImportError:
        return []


def _serial_infos(options: DiscoveryOptions) -> list[ReaderInfo]:
    from station.idcard.transports.serial import candidate_ports, probe

    ports = list(options.serial_ports) if options.serial_ports is not None else candidate_ports()
    if not ports:
        return []
    # Probe every port at once: a silent port costs the whole probe timeout.
    with ThreadPoolExecutor(max_workers=min(8, len(ports)), thread_name_prefix="idcard-probe") as pool:
        answers = list(pool.map(lambda port: probe(port, options.probe_timeout), ports))
    return [
        ReaderInfo(f"serial:{port}", "serial", "SAM reader answering the status frame")
        for port, answered in zip(ports, answers, strict=True)
        if answered
    ]


def open_reader(spec: str = "auto", options: DiscoveryOptions | None = None) -> Reader:
    """A Reader for ``spec`` (not yet opened). NoReaderError when ``auto`` finds nothing."""
    options = options or DiscoveryOptions()
    kind, _, rest = spec.partition(":")
    if kind == "auto":
        for info in list_readers(options):
            return open_reader(info.spec, options)
        raise NoReaderError()
    if kind == "sim":
        from station.idcard.transports.sim import from_spec

        return from_spec(rest)
    if kind == "serial" and rest:
        from station.idcard.transports.serial import SerialReader

        return SerialReader(rest)
    if kind == "pcsc" and rest:
        from station.idcard.transports.pcsc import PcscReader

        return PcscReader(rest)
    if kind == "usb" and rest:
        from station.idcard.transports.usb import UsbReader, model_for, parse_vid_pid

        return UsbReader(model_for(*parse_vid_pid(rest)), backend=options.usb_backend)
    if kind == "sdk" and rest:
        return _vendor_sdk_reader(rest)
    raise ReaderSpecError(detail=f"unknown reader spec {spec!r}; use auto, serial:, pcsc:, usb:, sdk: or sim")


def _vendor_sdk_reader(rest: str) -> Reader:
    """``/path/libsdtapi.so`` or ``/path/libtermb.so#1001``: the flavour follows the exported functions."""
    from station.idcard.transports.sdk import SdkReader, load_dll
    from station.idcard.transports.termb import TermbReader, is_termb

    path, _, port_text = rest.partition("#")
    if not path:
        raise ReaderSpecError(detail="sdk:<library path>[#port]")
    try:
        port = int(port_text) if port_text else None
    except ValueError:
        raise ReaderSpecError(detail="the SDK port must be a number") from None
    lib = load_dll(path)
    if is_termb(lib):
        return TermbReader(lib, path, port)
    return SdkReader(path, port)
