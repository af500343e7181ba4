"""Typed errors of the card-reading path, each with a machine code and a bilingual officer message.

Every failure between the reader and the parsed card ends as one of these classes. The CLI maps
``exit_code`` straight to the process exit status: 1 when there is no card or the card refused the
read, 2 for bad input or no usable reader. Messages never carry personal data.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from station.errors import OfficerError
from station.i18n import Text
from sync.protocol.chiptext import ChipTextError


class IdCardError(OfficerError):
    """Base of every card-reading error: ``code`` for machines, ``message`` (Text) for the officer."""

    code = "idcard_error"
    exit_code = 2
    message = Text(zh="读卡出错", en="Card reading failed")

    def __init__(self, message: Text | None = None, *, code: str | None = None, detail: str = "") -> None:
        super().__init__(message, code=code)
        self.detail = detail
        if detail:
            self.args = (f"{self.args[0]} ({detail})",)

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "message": self.message.as_dict(), "detail": self.detail}


# --- bytes on the wire -------------------------------------------------------------------------


class FrameError(IdCardError):
    """A frame that cannot be trusted: truncated, wrong length or bad checksum."""

    code = "frame"
    message = Text(zh="读卡器返回的数据帧有误", en="The reader sent a malformed frame")


class ChecksumError(FrameError):
    code = "frame_checksum"
    message = Text(zh="数据帧校验和错误，请重新放卡", en="Frame checksum error; place the card again")


class TruncatedFrameError(FrameError):
    code = "frame_truncated"
    message = Text(zh="数据帧不完整", en="The frame is truncated")


class FrameLengthError(FrameError):
    code = "frame_length"
    message = Text(zh="数据帧长度不符", en="The frame length does not match its contents")


# --- reader and transport ----------------------------------------------------------------------


class ReaderError(IdCardError):
    """The reader cannot be reached or stopped answering."""

    code = "reader"
    exit_code = 2
    message = Text(zh="读卡器无法使用", en="The card reader is not usable")


class NoReaderError(ReaderError):
    code = "no_reader"
    message = Text(zh="未找到身份证读卡器", en="No ID card reader was found")


class ReaderTimeoutError(ReaderError):
    code = "reader_timeout"
    message = Text(zh="读卡器无响应（超时）", en="The card reader did not answer in time")


class ReaderGoneError(ReaderError):
    code = "reader_gone"
    message = Text(zh="读卡器已断开，请检查连接", en="The card reader was disconnected; check the cable")


class ServiceGoneError(ReaderError):
    code = "pcsc_service_gone"
    message = Text(zh="智能卡服务（PC/SC）已停止", en="The smart-card service (PC/SC) has stopped")


class ReaderSpecError(ReaderError):
    code = "reader_spec"
    message = Text(zh="读卡器参数无法识别", en="The reader specification is not understood")


# --- the card ----------------------------------------------------------------------------------


class CardError(IdCardError):
    """No card, or the card (or SAM) refused the read. Exit status 1."""

    code = "card"
    exit_code = 1
    message = Text(zh="读卡失败", en="The card could not be read")


class NoCardError(CardError):
    code = "no_card"
    message = Text(
        zh="未检测到身份证，请将证件放在读卡器上", en="No card found; place the ID card on the reader"
    )


class CardRemovedError(CardError):
    code = "card_removed"
    message = Text(
        zh="读卡过程中证件被移开，请重新放卡", en="The card was removed during the read; place it again"
    )


class RemoveCardFirstError(CardError):
    code = "remove_card_first"
    message = Text(zh="请先拿开证件，再重新放卡读取", en="Remove the card before the next read")


class PersonalDataUnavailableError(CardError):
    """A plain PC/SC reader without a SAM: only the chip serial is readable."""

    code = "no_sam"
    message = Text(
        zh="该读卡器只能读取芯片序列号，无法读取身份信息（需公安部认证读卡器）",
        en="This reader can read only the chip serial, not the personal data (a certified SAM reader is needed)",
    )

    def __init__(self, chip_serial: str | None = None, detail: str = "") -> None:
        super().__init__(detail=detail)
        self.chip_serial = chip_serial

    def as_dict(self) -> dict[str, object]:
        return {**super().as_dict(), "chip_serial": self.chip_serial}


class SamStatusError(CardError):
    """The SAM answered with a status word (SW3) other than success."""

    code = "sam_status"

    def __init__(self, sw3: int, message: Text, code: str, exit_code: int = 1) -> None:
        self.sw3 = sw3
        self.exit_code = exit_code
        super().__init__(message, code=code, detail=f"SW3=0x{sw3:02X}")


# --- bad input ---------------------------------------------------------------------------------


class ChipDataError(IdCardError):
    """The chip text block or photo cannot be parsed."""

    code = "chip_data"
    exit_code = 2
    message = Text(zh="证件数据无法解析", en="The card data cannot be parsed")


class PhotoDecodeError(IdCardError):
    code = "photo_decode"
    exit_code = 2
    message = Text(zh="证件照片无法解码", en="The card photo cannot be decoded")


# SW3 -> (code, message, exit code). Exit 1: the card or SAM refused; exit 2: host/reader side.
_SW3_TABLE: dict[int, tuple[str, Text, int]] = {
    0x91: ("no_content", Text(zh="证件中此项无内容", en="The card has no content for this item"), 1),
    0x10: (
        "sam_checksum",
        Text(zh="安全模块收到的数据校验和错", en="The SAM received a frame with a bad checksum"),
        2,
    ),
    0x11: (
        "sam_length",
        Text(zh="安全模块收到的数据长度错", en="The SAM received a frame with a bad length"),
        2,
    ),
    0x21: (
        "sam_command",
        Text(zh="安全模块命令错误", en="The SAM rejected the command (code, parameter or order)"),
        2,
    ),
    0x23: ("sam_unauthorised", Text(zh="越权操作", en="Unauthorised operation"), 2),
    0x24: (
        "sam_unknown_error",
        Text(zh="安全模块无法识别的错误", en="The SAM reported an unrecognised error"),
        2,
    ),
    0x31: ("card_auth_sam", Text(zh="证件认证安全模块失败", en="The card failed to authenticate the SAM"), 1),
    0x32: (
        "sam_auth_card",
        Text(zh="安全模块认证证件失败，请确认是有效证件", en="The SAM failed to authenticate the card"),
        1,
    ),
    0x33: ("verify", Text(zh="信息验证错误", en="Information verification error"), 1),
    0x40: ("card_type", Text(zh="无法识别的卡类型", en="Unrecognised card type"), 1),
    0x41: (
        "read_failed",
        Text(zh="读证件操作失败，请重新放卡", en="Reading the card failed; place it again"),
        1,
    ),
    0x47: ("random", Text(zh="取随机数失败", en="Getting the random number failed"), 1),
    0x60: (
        "sam_selftest",
        Text(zh="安全模块自检失败，无法使用", en="The SAM self-test failed; the reader cannot be used"),
        2,
    ),
    0x66: (
        "sam_not_authorised",
        Text(zh="安全模块未经授权，无法使用", en="The SAM is not authorised; the reader cannot be used"),
        2,
    ),
    0x80: ("no_card", NoCardError.message, 1),
    0x81: (
        "select_failed",
        Text(zh="选取证件失败，请重新放卡", en="Selecting the card failed; place it again"),
        1,
    ),
}


def sam_status_error(sw3: int) -> IdCardError:
    """The typed error for a non-success SW3 (unknown values included)."""
    if sw3 == 0x80:
        return NoCardError(detail="SW3=0x80")
    entry = _SW3_TABLE.get(sw3)
    if entry is None:
        return SamStatusError(
            sw3,
            Text(
                zh="读卡器返回未知状态码 0x{sw3:02X}", en="The reader returned an unknown status 0x{sw3:02X}"
            ).format(sw3=sw3),
            "sam_unknown_status",
            exit_code=2,
        )
    code, message, exit_code = entry
    return SamStatusError(sw3, message, code, exit_code)


# The shared chip-text parser (sync.protocol.chiptext) raises ChipTextError with a code and a reason;
# the officer reads these messages instead.
_CHIP_TEXT_MESSAGES: dict[tuple[str, str], Text] = {
    ("chip_encoding", "not_ucs2"): Text(zh="证件文字编码错误", en="The card text is not valid UCS-2"),
    ("chip_encoding", "control_character"): Text(
        zh="证件文字含有控制字符", en="The card text contains control characters"
    ),
    ("chip_date", "malformed"): Text(zh="证件日期格式错误", en="A date on the card is malformed"),
    ("chip_date", "not_a_date"): Text(zh="证件日期无效", en="A date on the card is not a real date"),
    ("chip_text_size", "wrong_size"): Text(
        zh="证件文字信息长度错误", en="The card text block has the wrong size"
    ),
    ("chip_sex", "unknown_code"): Text(zh="证件性别代码无效", en="The sex code on the card is invalid"),
    ("chip_nation", "unknown_code"): Text(
        zh="证件民族代码无效", en="The ethnic-group code on the card is invalid"
    ),
    ("chip_id_number", "empty"): Text(zh="证件号码为空", en="The card number is empty"),
}


def chip_text_error(error: ChipTextError) -> ChipDataError:
    """The officer-facing error for a text block the shared parser refused."""
    message = _CHIP_TEXT_MESSAGES.get((error.code, error.reason), ChipDataError.message)
    return ChipDataError(message, code=error.code, detail=error.detail)


@contextmanager
def officer_chip_errors() -> Iterator[None]:
    """Run the shared chip-text parser; its errors come out as ``ChipDataError`` with officer messages."""
    try:
        yield
    except ChipTextError as error:
        raise chip_text_error(error) from None
