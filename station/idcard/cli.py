"""``station idcard``: list readers, read one card, watch the event loop, parse a saved response.

Exit status: 0 read/parsed; 1 no card or the card refused; 2 bad input or no reader.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from station.i18n import Text
from station.idcard.discovery import DiscoveryOptions, list_readers, open_reader, options_from
from station.idcard.errors import IdCardError, NoCardError, NoReaderError
from station.idcard.events import CardEventStream
from station.idcard.saved import parse_saved
from station.idcard.wlt import WltDecoder, photo_for
from sync.protocol import codes
from sync.protocol.card import ChipData

LABELS = [
    ("card_type", "证件类型", "Card type"),
    ("name", "姓名", "Name"),
    ("name_en", "英文姓名", "English name"),
    ("sex", "性别", "Sex"),
    ("nation", "民族", "Ethnic group"),
    ("birth_date", "出生", "Born"),
    ("address", "住址", "Address"),
    ("id_number", "证件号码", "Number"),
    ("issuer", "签发机关", "Issued by"),
    ("valid_from", "有效期起", "Valid from"),
    ("valid_until", "有效期止", "Valid until"),
    ("chip_serial", "芯片序列号", "Chip serial"),
    ("sam_id", "安全模块号", "SAM ID"),
    ("photo_wlt_sha256", "照片摘要", "Photo SHA-256"),
]


def _out(value: object) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")


def _fail(error: IdCardError, as_json: bool) -> int:
    if as_json:
        _out({"error": error.as_dict()})
    sys.stderr.write(f"{error.message}" + (f" ({error.detail})" if error.detail else "") + "\n")
    return error.exit_code


def _show(chip: ChipData, args: argparse.Namespace) -> None:
    if args.json:
        _out(chip.to_dict(include_raw=getattr(args, "raw", False)))
        return
    data = chip.to_dict()
    names = {"sex": codes.sexes(), "nation": codes.ethnic_groups()}
    for key, zh, en in LABELS:
        if data.get(key) is not None:
            shown = data[key]
            if key in names and shown in names[key]:  # codes stay visible; names only help the eye
                shown = f"{shown} ({names[key][shown]})"
            sys.stdout.write(f"{Text(zh=zh, en=en)}: {shown}\n")


def discovery_options(settings) -> DiscoveryOptions:  # type: ignore[no-untyped-def]
    return options_from(settings.runtime)


def cmd_list(args: argparse.Namespace, ctx) -> int:
    infos = list_readers(discovery_options(ctx.settings))
    if args.json:
        _out([info.as_dict() for info in infos])
    else:
        for info in infos:
            sys.stdout.write(f"{info.spec}\t{info.kind}\t{info.description}\n")
    if not infos:
        sys.stderr.write(f"{NoReaderError.message}\n")
        return 2
    return 0


def read_once(
    spec: str,
    timeout: float,
    fingerprint: bool = False,
    poll: float = 0.2,
    options: DiscoveryOptions | None = None,
) -> ChipData:
    """Wait up to ``timeout`` for a card on ``spec`` and read it."""
    deadline = time.monotonic() + timeout
    reader = open_reader(spec, options)
    try:
        reader.open()
        while True:
            remaining = deadline - time.monotonic()
            try:
                return reader.read_card(max(remaining, 0.05), fingerprint=fingerprint)
            except NoCardError:
                if deadline - time.monotonic() <= poll:
                    raise
                time.sleep(poll)
    finally:
        reader.close()


def cmd_read(args: argparse.Namespace, ctx) -> int:
    try:
        chip = read_once(args.reader, args.timeout, args.fingerprint, options=discovery_options(ctx.settings))
    except IdCardError as error:
        return _fail(error, args.json)
    _show(chip, args)
    if args.photo:
        _write_photo(chip, args)
    return 0


def _write_photo(chip: ChipData, args: argparse.Namespace) -> None:
    if chip.photo_bmp:  # the reader's SDK decoded it already
        Path(args.photo).write_bytes(chip.photo_bmp)
        return
    decoder = None
    if args.wlt_decoder:
        try:
            decoder = WltDecoder(args.wlt_decoder)
        except IdCardError as error:
            sys.stderr.write(f"{error.message}\n")
    photo = photo_for(chip.raw_wlt, decoder)
    Path(args.photo).write_bytes(photo.bmp)
    if photo.reason is not None:
        sys.stderr.write(f"{photo.reason}\n")


SAVED_READ_LIMIT = 64 * 1024  # a saved read is a response frame or a text block: a few KiB at most


def cmd_parse(args: argparse.Namespace, ctx) -> int:
    from station.files import FileRefused, read_bounded

    try:
        data = read_bounded(args.file, SAVED_READ_LIMIT, Text("身份证文件", "card file"))
    except FileRefused as refused:
        message = refused.message if refused.code == "file_too_large" else Text(zh="无法读取文件", en="Cannot read the file")
        return _fail(IdCardError(message, code="file", detail=refused.code), args.json)
    try:
        chip = parse_saved(data)
    except IdCardError as error:
        return _fail(error, args.json)
    _show(chip, args)
    return 0


def cmd_watch(args: argparse.Namespace, ctx) -> int:
    """Run the desk's read loop and print each event (placed, result, error, reader lost...)."""
    options = discovery_options(ctx.settings)
    stream = CardEventStream(lambda: open_reader(args.reader, options), read_timeout=args.timeout).start()
    deadline = time.monotonic() + args.duration if args.duration else None
    results = 0
    try:
        while deadline is None or time.monotonic() < deadline:
            event = stream.get(0.2)
            if event is None:
                continue
            if args.json:
                record: dict[str, object] = {"event": event.kind, "message": event.message.as_dict()}
                if event.chip is not None:
                    record["card"] = event.chip.to_dict()
                if event.error is not None:
                    record["error"] = event.error.as_dict()
                sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
            else:
                who = f": {event.chip.id_number}" if event.chip is not None else ""
                sys.stdout.write(f"[{event.kind}] {event.message}{who}\n")
            sys.stdout.flush()
            results += event.kind == "result"
            if args.count and results >= args.count:
                break
    except KeyboardInterrupt:
        pass
    finally:
        stream.stop(args.timeout + 1)
    return 0 if not args.count or results >= args.count else 1


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("idcard", help="身份证读卡 / ID card reading")
    commands = parser.add_subparsers(dest="idcard_command", metavar="ACTION")
    parser.set_defaults(handler=lambda args, ctx: (parser.print_help(), 2)[1])

    listing = commands.add_parser("list", help="readers found and how each connects")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=cmd_list)

    read = commands.add_parser("read", help="read one card")
    read.add_argument("--reader", default="auto", metavar="SPEC",
                      help="auto | serial:/dev/ttyUSB0 | pcsc:<name> | usb:0400:c35a | sdk:<library> | sim")  # fmt: skip
    read.add_argument("--json", action="store_true")
    read.add_argument("--timeout", type=float, default=10.0, metavar="S", help="seconds to wait for a card")
    read.add_argument("--fingerprint", action="store_true", help="also read fingerprint templates (30 10)")
    read.add_argument(
        "--raw", action="store_true", help="include the raw text, photo and fingerprint (base64)"
    )
    read.add_argument("--photo", metavar="FILE.bmp", help="write the decoded photo (or the placeholder)")
    read.add_argument("--wlt-decoder", metavar="LIBRARY", help="vendor WLT decoder library (unpack / GetBmp)")
    read.set_defaults(handler=cmd_read)

    watch = commands.add_parser("watch", help="run the card-event loop and print events as they happen")
    watch.add_argument("--reader", default="auto", metavar="SPEC")
    watch.add_argument("--json", action="store_true", help="one JSON object per line")
    watch.add_argument("--timeout", type=float, default=5.0, metavar="S", help="per-read timeout")
    watch.add_argument(
        "--duration", type=float, default=0.0, metavar="S", help="stop after S seconds (0: never)"
    )
    watch.add_argument("--count", type=int, default=0, metavar="N", help="stop after N cards were read")
    watch.set_defaults(handler=cmd_watch)

    parse = commands.add_parser(
        "parse", help="parse a saved 30 01 / 30 10 response frame or a 256-byte text block"
    )
    parse.add_argument("file", metavar="FILE")
    parse.add_argument("--json", action="store_true")
    parse.add_argument("--raw", action="store_true")
    parse.set_defaults(handler=cmd_parse)
