"""Huashi-style ``termb`` SDK readers (``CVR_*`` functions, e.g. 华视 CVR-100) through ctypes.

Unlike sdtapi, termb hands over decoded fields (GB2312 strings from ``Get*`` calls) and a decoded
photo (``GetBMPData``), not the raw chip blocks. The station rebuilds the 256-byte text block from the
fields (``extra["raw_text_source"] = "sdk_fields"`` says so), keeps the vendor's BMP as ``photo_bmp``
and has no raw WLT from this API. Return codes: 1 success; ``CVR_Authenticate`` 2 find failed,
3 select failed; ``CVR_Read_Content`` 0 failed, 99 abnormal. The field formats are from vendor demos
and need confirming on a real reader (dates as YYYYMMDD, sex as 男/女 or a code, nation as a code).
"""

from __future__ import annotations

import ctypes
import re
import time
from datetime import date
from typing import Any

from station.i18n import Text
from station.idcard.errors import (
    CardRemovedError,
    ChipDataError,
    NoCardError,
    NoReaderError,
    ReaderTimeoutError,
    SamStatusError,
)
from station.idcard.transports.base import Reader, ReaderInfo
from station.idcard.transports.sdk import SCAN_PORTS
from station.idcard.transports.worker import DeviceWorker
from sync.protocol import codes
from sync.protocol.card import LONG_TERM, ChipData
from sync.protocol.chiptext import MARKERS, encode_text

_SEXES = {"男": "1", "女": "2", "未知": "0", "未说明": "9"}
_FIELDS = (
    "GetPeopleName", "GetPeopleSex", "GetNationCode", "GetPeopleNation", "GetPeopleBirthday", "GetPeopleAddress",
    "GetPeopleIDCode", "GetDepartment", "GetStartDate", "GetEndDate", "GetCertType", "GetPeopleChineseName",
)  # fmt: skip


def is_termb(lib: Any) -> bool:
    return hasattr(lib, "CVR_InitComm") and not hasattr(lib, "SDT_OpenPort")


def _date(text: str, name: str) -> date:
    digits = re.sub(r"\D", "", text)
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        raise ChipDataError(
            Text(zh="读卡器返回的日期无效", en="The reader returned an invalid date"),
            code="chip_date",
            detail=name,
        ) from None


class TermbReader(Reader):
    def __init__(self, lib: Any, path: str, port: int | None = None, call_timeout: float = 3.0) -> None:
        self._lib = lib
        self.library_path = path
        self.port = port
        self.call_timeout = call_timeout
        self.info = ReaderInfo(f"sdk:{path}" + (f"#{port}" if port else ""), "sdk", f"termb SDK {path}")
        self._worker: DeviceWorker | None = None
        self._open_port: int | None = None

    def _call(self, func: Any, timeout: float | None = None) -> Any:
        self._worker = self._worker or DeviceWorker("idcard-termb")
        try:
            return self._worker.call(func, timeout or self.call_timeout)
        except ReaderTimeoutError:
            self._worker, self._open_port = None, None  # the stuck call keeps the old worker
            raise

    def open(self) -> None:
        if self._open_port is not None:
            return
        for port in (self.port,) if self.port else SCAN_PORTS:
            if self._call(lambda p=port: self._lib.CVR_InitComm(p)) == 1:
                self._open_port = port
                self.info = ReaderInfo(f"sdk:{self.library_path}#{port}", "sdk", f"termb SDK, port {port}")
                return
        raise NoReaderError(detail="the termb library found no reader on any port")

    def close(self) -> None:
        if self._open_port is not None and self._worker is not None:
            try:
                self._call(self._lib.CVR_CloseComm, 1.0)
            except ReaderTimeoutError:
                pass
        if self._worker is not None:
            self._worker.stop()
        self._worker, self._open_port = None, None

    def card_present(self, timeout: float = 1.0) -> bool:
        # termb has no separate 'find' in every version: Authenticate (find + select) is the probe.
        self.open()
        return self._call(self._lib.CVR_Authenticate, timeout) == 1

    def read_card(self, timeout: float = 5.0, *, fingerprint: bool = False) -> ChipData:
        deadline = time.monotonic() + timeout
        self.open()

        def left() -> float:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ReaderTimeoutError(detail="read deadline passed")
            return remaining

        status = self._call(self._lib.CVR_Authenticate, left())
        if status == 2:
            raise NoCardError(detail="CVR_Authenticate=2")
        if status != 1:
            raise SamStatusError(0x81, Text(zh="选取证件失败，请重新放卡", en="Selecting the card failed; place it again"),
                                 "select_failed")  # fmt: skip
        if fingerprint and hasattr(self._lib, "CVR_Read_FPContent"):
            status = self._call(self._lib.CVR_Read_FPContent, left())
        else:
            status = self._call(lambda: self._lib.CVR_Read_Content(4), left())
        if status != 1:
            if self._call(self._lib.CVR_Authenticate, left()) == 2:
                raise CardRemovedError(detail=f"CVR_Read_Content={status}")
            raise SamStatusError(0x41, Text(zh="读证件操作失败，请重新放卡", en="Reading the card failed; place it again"),
                                 "read_failed")  # fmt: skip
        fields = self._call(self._fetch_fields, left())
        return self._chip(fields)

    def _fetch_fields(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in _FIELDS:
            if hasattr(self._lib, name):
                buffer, length = ctypes.create_string_buffer(512), ctypes.c_int(512)
                if getattr(self._lib, name)(buffer, ctypes.byref(length)) == 1:
                    raw = buffer.raw[: max(0, min(length.value, 512))].split(b"\0", 1)[0]
                    out[name] = raw.decode("gb18030", errors="replace").strip()
        if hasattr(self._lib, "GetBMPData"):
            bmp, length = ctypes.create_string_buffer(65536), ctypes.c_int(65536)
            if self._lib.GetBMPData(bmp, ctypes.byref(length)) == 1 and 0 < length.value <= 65536:
                out["bmp"] = bmp.raw[: length.value]
        if hasattr(self._lib, "CVR_GetSAMID"):
            sam = ctypes.create_string_buffer(128)
            if self._lib.CVR_GetSAMID(sam) == 1:
                out["sam_id"] = sam.value.decode("ascii", errors="replace").strip()
        return out

    def _chip(self, f: dict[str, Any]) -> ChipData:
        card_type = MARKERS.get(f.get("GetCertType", "").strip(), "resident")
        sex = _SEXES.get(f.get("GetPeopleSex", ""), f.get("GetPeopleSex", ""))
        nation = f.get("GetNationCode") or codes.ethnic_code_for_name(
            f.get("GetPeopleNation", "").removesuffix("族")
        )
        until = f.get("GetEndDate", "")
        foreign = card_type.startswith("foreign")
        chip = ChipData(
            card_type=card_type,
            name=f.get("GetPeopleChineseName", "") if foreign else f.get("GetPeopleName", ""),
            name_en=f.get("GetPeopleName") if foreign else None,
            sex=sex,
            nation=nation if card_type == "resident" else None,
            birth_date=_date(f.get("GetPeopleBirthday", ""), "birth_date"),
            address=None if foreign else f.get("GetPeopleAddress"),
            id_number=f.get("GetPeopleIDCode", ""),
            issuer=f.get("GetDepartment") or None,
            valid_from=_date(f.get("GetStartDate", ""), "valid_from"),
            valid_until=None if LONG_TERM in until else _date(until, "valid_until"),
            raw_text=b"",
            sam_id=f.get("sam_id") or None,
            photo_bmp=f.get("bmp"),
            extra={"raw_text_source": "sdk_fields"},
        )
        try:
            return chip.with_reader_data(raw_text=encode_text(chip))
        except ValueError:
            raise ChipDataError(
                detail="a field from the SDK does not fit the chip layout", code="chip_layout"
            ) from None
