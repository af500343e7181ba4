"""Fixtures for the card-reader tests: gcc-built vendor shims, a real pcscd with the vpcd virtual
reader (started here when it is not already running), and pty pairs with an emulated SAM."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import pytest

from station.idcard.emulator import SamEmulator
from tests.idcard import cards
from tests.idcard.samline import SamLine
from tests.support.system import require, require_tool

SHIMS = Path(__file__).parent / "shims"
PCSCD_SOCKET = "/run/pcscd/pcscd.comm"
VPCD_DRIVER = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so"
VPCD_READER = "Virtual PCD 00 00"
VPCD_PORT = 35963  # /etc/reader.conf.d/vpcd: CHANNELID 0x8C7B


@pytest.fixture(scope="session")
def shim_libs(tmp_path_factory) -> dict[str, Path]:
    """The sdtapi and WLT shims compiled with gcc for this run."""
    gcc = require_tool("gcc")
    out = tmp_path_factory.mktemp("shims")
    built = {}
    for name in ("sdtapi_shim", "wlt_shim", "termb_shim"):
        target = out / f"lib{name}.so"
        subprocess.run(
            [gcc, "-shared", "-fPIC", "-O1", "-Wall", "-o", str(target), str(SHIMS / f"{name}.c")],
            check=True,
            timeout=60,
        )
        built[name] = target
    return built


def _socket_alive() -> bool:
    if not os.path.exists(PCSCD_SOCKET):
        return False
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(1.0)
    try:
        probe.connect(PCSCD_SOCKET)
        return True
    except OSError:
        return False
    finally:
        probe.close()


class Pcscd:
    """The PC/SC daemon for the session: ours (started here, may be stopped and restarted) or the system's."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.owned = False

    def start(self, timeout: float = 10.0) -> None:
        self.process = subprocess.Popen(
            [require_tool("pcscd"), "--foreground", "--error"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.owned = True
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float) -> None:
        from station.idcard.errors import IdCardError
        from station.idcard.transports.pcsc import list_reader_names

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if _socket_alive():
                try:
                    if VPCD_READER in list_reader_names(1.0):
                        return
                except IdCardError:
                    pass
            time.sleep(0.1)
        raise RuntimeError("pcscd did not come up with the vpcd reader")

    def stop(self, timeout: float = 10.0) -> None:
        assert self.owned and self.process is not None, "only a pcscd started by the tests may be stopped"
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout)
        self.process = None


@pytest.fixture(scope="session")
def pcscd():
    require_tool("pcscd")
    require(os.path.exists(VPCD_DRIVER), "the vpcd driver (Debian package vsmartcard-vpcd)")
    daemon = Pcscd()
    try:
        if _socket_alive():
            daemon.wait_ready(10.0)
        else:
            daemon.start()
    except RuntimeError as error:
        require(False, f"pcscd serving the vpcd reader ({error})")
    yield daemon
    if daemon.owned and daemon.process is not None:
        daemon.stop()


@pytest.fixture
def sam_line():
    """A pty pair whose far end is an emulated SAM with a synthetic resident card on it."""
    line = SamLine(SamEmulator())
    line.emulator.place(cards.resident())
    yield line
    line.close()
