"""Saved card files: a raw read-response frame (``30 01`` / ``30 10``) or a bare 256-byte text block.

What ``station idcard parse`` and ``station capture --card FILE`` read. The text block itself is parsed
by the shared parser (``sync.protocol.chiptext``); everything here turns its refusals into officer
messages.
"""

from __future__ import annotations

from station.i18n import Text
from station.idcard.commands import parse_base_message_any
from station.idcard.errors import ChipDataError, IdCardError, officer_chip_errors, sam_status_error
from station.idcard.frames import parse_response
from sync.protocol.card import ChipData
from sync.protocol.chiptext import TEXT_SIZE, parse_text

_NOT_CARD_DATA = Text(
    zh="文件既不是读卡响应帧，也不是256字节文字信息",
    en="The file is neither a read response frame nor a 256-byte text block",
)


def parse_saved(data: bytes) -> ChipData:
    """Parse a saved raw response frame or a bare 256-byte text block; typed IdCardError on bad input."""
    if len(data) == TEXT_SIZE and not data.startswith(b"\xaa\xaa\xaa\x96\x69"):
        with officer_chip_errors():
            return parse_text(data)
    try:
        response = parse_response(data)
    except IdCardError as error:
        raise ChipDataError(_NOT_CARD_DATA, code="not_card_data", detail=error.code) from None
    if response.sw3 != 0x90:
        raise sam_status_error(response.sw3)
    message = parse_base_message_any(response.data)
    with officer_chip_errors():
        chip = parse_text(message.text)
    return chip.with_reader_data(raw_wlt=message.photo, fingerprint=message.fingerprint or None)
