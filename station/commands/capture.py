"""``station capture --card FILE --photo IMAGE``: the desk's capture workflow without the GUI.

It drives ``station.capture.workflow.Desk`` (through ``StationApp.desk()``), the same code the desk
window runs: the card is matched to the queue and refused with the desk's own reasons (not in this
county's queue, not approved, captured at 中考, chip and pre-registration differ, card expired); the
photo is checked and made with ``station.camera.photo.make_photo`` for the station's profile; the
immutable record and its outbox row are saved in one transaction. "Saved" is printed only after the
commit. FILE is a saved card read, as ``station idcard parse`` takes it.

Exit codes: 0 saved, 1 refused (card, queue or photo), 2 bad input or set-up.
"""

from __future__ import annotations

import getpass
from pathlib import Path

from station.commands.officer_login import add_login_options
from station.commands.output import fail, print_json
from station.i18n import Text

# A saved card read is a response frame or a 256-byte text block: a few KiB at most.
CARD_FILE_LIMIT = 64 * 1024


def register(subparsers) -> None:  # type: ignore[no-untyped-def]
    parser = subparsers.add_parser(
        "capture", help="不用界面采集一名学生 / capture one student without the GUI"
    )
    parser.add_argument(
        "--card", type=Path, required=True, help="saved card read (response frame or text block)"
    )
    parser.add_argument("--photo", type=Path, required=True, help="the photograph (JPEG/PNG)")
    parser.add_argument(
        "--operator",
        default=None,
        help="who captures (default: the login name); the officer who opens a password-protected station",
    )
    parser.add_argument("--note", default=None, help="reason for using a photo that has warnings")
    parser.add_argument(
        "--recapture-reason", default=None, help="why a student captured here before is captured again"
    )
    parser.add_argument("--json", action="store_true")
    add_login_options(parser, operator=False)
    parser.set_defaults(handler=run)


def _out(args, code: int, data: dict, text: Text | str) -> int:  # type: ignore[no-untyped-def]
    if args.json:
        print_json(data)
    else:
        print(text)
    return code


def run(args, ctx) -> int:  # type: ignore[no-untyped-def]
    from station.camera.errors import CameraError, NotConforming
    from station.camera.imagefile import load_image, opencv_errors
    from station.camera.photo import make_photo
    from station.capture.workflow import State, WorkflowError
    from station.errors import OfficerError
    from station.files import read_bounded
    from station.idcard.saved import parse_saved

    try:
        card = parse_saved(read_bounded(args.card, CARD_FILE_LIMIT, Text("身份证文件", "card file")))
        image = load_image(args.photo)
    except OfficerError as error:  # unreadable, too large, not a card read, not an image
        return _out(
            args,
            2,
            {"ok": False, "error_code": error.code, "message": error.message.as_dict()},
            error.message,
        )
    app = ctx.open_station()
    try:
        if not app.config.enrolled:
            return fail(
                Text(
                    "本站尚未设置站号和旗县（station enroll）。",
                    "The station has no id or county yet (station enroll).",
                )
            )
        desk = app.desk()
        state = desk.card_read(card)
        if state is State.CONFIRM_RECAPTURE:
            if not (args.recapture_reason or "").strip():
                message = Text(
                    "该生已在本站采集过：重新采集请用 --recapture-reason 说明原因。",
                    "Captured here before: give the reason for a recapture with --recapture-reason.",
                )
                data = {"ok": False, "state": str(state), "refusal_code": "RECAPTURE_REASON_REQUIRED",
                        "message": message.as_dict()}  # fmt: skip
                return _out(args, 1, data, message)
            desk.confirm_recapture(args.recapture_reason)
        if desk.state is State.REFUSED:
            reasons = desk.reasons
            data = {
                "ok": False,
                "state": "refused",
                "refusal_code": desk.refusal_code,
                "reasons": [r.as_dict() for r in reasons],
            }
            return _out(args, 1, data, "\n".join(str(r) for r in reasons))
        try:
            with opencv_errors("image_unprocessable"):
                photo = make_photo(image, app.config.photo_profile)
        except NotConforming as refused:
            failed = [c.as_dict() for c in refused.report.failed()]  # type: ignore[attr-defined]
            data = {
                "ok": False,
                "state": "photo",
                "refusal_code": "PHOTO_NOT_CONFORMING",
                "failed_checks": failed,
            }
            text = "\n".join(str(c.message) for c in refused.report.failed())  # type: ignore[attr-defined]
            return _out(args, 1, data, text or str(refused.message))
        except CameraError as error:
            return _out(
                args,
                2,
                {"ok": False, "error_code": error.code, "message": error.message.as_dict()},
                error.message,
            )
        try:
            desk.photo_taken(photo, officer_note=args.note)
            record = desk.accept(args.operator or _login_name())
        except WorkflowError as error:
            data = {"ok": False, "state": str(desk.state), "message": error.message.as_dict()}
            return _out(args, 1, data, error.message)
        except OfficerError as error:  # the store refused (disk full, damaged): nothing was saved
            data = {"ok": False, "error_code": error.code, "message": error.message.as_dict()}
            return _out(args, 2, data, error.sentence())
        app.faults.reached("after_capture_commit")
        data = {
            "ok": True,
            "state": "saved",
            "record_id": record.record_id,
            "short_id": record.short_id,
            "student_id": record.student_id,
            "photo_bytes": len(record.photo_jpeg),
            "photo_profile": record.photo_profile,
            "warnings": [r.as_dict() for r in desk.reasons],
            "outbox": "pending",
        }
        text = Text(
            "已保存（待同步）：学生 {s}，回执号 {r}", "Saved (pending sync): student {s}, receipt {r}"
        ).format(s=record.student_id, r=record.short_id)
        return _out(args, 0, data, text)
    finally:
        app.close()


def _login_name() -> str:
    try:
        return getpass.getuser() or "cli"
    except (OSError, KeyError):
        return "cli"
