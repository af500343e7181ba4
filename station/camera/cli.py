"""``station photo ...``: check an image against a profile, or make the conforming photo from it.

station photo check IMAGE [--profile P] [--backdrop B] [--json]
    exit 0 conforming, 1 not conforming, 2 unreadable input (or unknown profile)
station photo make IMAGE -o OUT.jpg [--profile P] [--backdrop B] [--json]
    exit 0 written, 1 not conforming (nothing written), 2 unreadable input
station photo profiles [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from station.camera.errors import CameraError, NotConforming
from station.camera.imagefile import load_image, opencv_errors
from station.camera.opening import open_source
from station.camera.photo import make_photo
from station.camera.profiles import available_profiles, load_profile
from station.camera.quality import QualityReport, analyze
from station.camera.session import CaptureSession
from station.camera.sources import STATE_MESSAGES, SourceState
from station.files import FileRefused
from station.i18n import Text

_MARKS = {"pass": "✔", "warn": "!", "fail": "✘", "skipped": "-"}


def register(subparsers: Any) -> None:
    photo = subparsers.add_parser("photo", help="registration photo: check or make (photo profiles)")
    commands = photo.add_subparsers(dest="photo_command", required=True)

    check = commands.add_parser("check", help="report every quality check for an image")
    _common(check)
    check.set_defaults(handler=run_check)

    make = commands.add_parser("make", help="write the conforming photo, or refuse with the failed checks")
    _common(make)
    make.add_argument("-o", "--output", required=True, type=Path, help="where to write the JPEG")
    make.set_defaults(handler=run_make)

    live = commands.add_parser(
        "live", help="run the camera with live guidance until a photo is auto-captured"
    )
    live.add_argument(
        "--source", default="sim", help="camera:0, camera:NAME, file:PATH, folder:PATH, url:URL, sim"
    )
    live.add_argument("--seconds", type=float, default=20.0, help="give up after this long")
    live.add_argument("--profile", default=None)
    live.add_argument("--backdrop", default=None)
    live.add_argument("-o", "--output", type=Path, default=None, help="write the captured photo here")
    live.add_argument("--json", action="store_true")
    live.set_defaults(handler=run_live)

    profiles = commands.add_parser("profiles", help="list the output profiles")
    profiles.add_argument("--json", action="store_true")
    profiles.set_defaults(handler=run_profiles)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("image", type=Path, help="input image (JPEG, PNG, ...)")
    parser.add_argument("--profile", default=None, help="output profile id or JSON file (default moe-480)")
    parser.add_argument("--backdrop", default=None, help="backdrop reference colour (e.g. white, light_blue)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def _emit(args: argparse.Namespace, payload: dict[str, Any], report: QualityReport | None = None) -> None:
    if args.json:
        print(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    if "error" in payload:
        print(payload["error"]["message_text"], file=sys.stderr)
        return
    if report is not None:
        for check in report.checks:
            value = "" if check.value is None else f"  {json.dumps(check.value, ensure_ascii=False)}"
            print(f"{_MARKS.get(check.status, '?')} {check.name}: {check.message}{value}")
        print(Text(zh="请人工确认:", en="For the officer to confirm:"))
        for item in report.checklist:
            print(f"  □ {item.text}")
    print(payload["summary"])


def _error(args: argparse.Namespace, exc: CameraError) -> int:
    payload = {
        "ok": False,
        "error": {"code": exc.code, "message": exc.message.as_dict(), "message_text": str(exc.message)},
    }
    if args.json:
        payload["error"].pop("message_text")
    _emit(args, payload)
    return 2


def _load(args: argparse.Namespace):
    profile = load_profile(args.profile)
    try:
        image = load_image(args.image)
    except FileRefused as refused:  # the command's codes stay: too large, or unreadable
        code = "image_too_large" if refused.code == "file_too_large" else "image_unreadable"
        raise CameraError(code, refused.message) from None
    if args.backdrop is not None:
        profile.background_rgb(args.backdrop)  # validates the name against the profile
    return profile, image


def run_check(args: argparse.Namespace, ctx) -> int:
    try:
        profile, image = _load(args)
        with opencv_errors("image_unprocessable"):
            report = analyze(image, profile, background=args.backdrop)
    except CameraError as exc:
        return _error(args, exc)
    payload = report.as_dict()
    payload["summary"] = str(
        Text(zh="照片符合要求", en="the photo conforms")
        if report.ok
        else Text(zh="照片不符合要求", en="the photo does not conform")
    )
    _emit(args, payload, report)
    return 0 if report.ok else 1


def run_make(args: argparse.Namespace, ctx) -> int:
    try:
        profile, image = _load(args)
        with opencv_errors("image_unprocessable"):
            photo = make_photo(image, profile, background=args.backdrop)
    except NotConforming as refused:
        report = refused.report
        assert isinstance(report, QualityReport)
        payload = report.as_dict()
        payload["ok"] = False
        payload["failed"] = [c.name for c in report.failed()]
        payload["summary"] = str(
            Text(zh="照片不符合要求,未写入文件", en="the photo does not conform; nothing written")
        )
        _emit(args, payload, report)
        return 1
    except CameraError as exc:
        return _error(args, exc)
    try:
        _write_atomically(args.output, photo.jpeg_bytes)
    except CameraError as exc:
        return _error(args, exc)
    payload = photo.report.as_dict()
    payload.update({"bytes": photo.size, "quality": photo.quality, "output": str(args.output)})
    payload["summary"] = str(
        Text(zh=f"已写入 {args.output.name}({photo.size} 字节,质量 {photo.quality})",
             en=f"wrote {args.output.name} ({photo.size} bytes, quality {photo.quality})")
    )  # fmt: skip
    _emit(args, payload, photo.report)
    return 0


def _write_atomically(path: Path, data: bytes) -> None:
    """Write beside the target and rename, so a reader never sees half a photo (CameraError if it can't)."""
    try:
        fd, temp = tempfile.mkstemp(prefix=".photo-", suffix=".part", dir=path.resolve().parent)
    except OSError as exc:
        raise _unwritable(path, exc) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temp, path)
    except BaseException as exc:
        Path(temp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise _unwritable(path, exc) from None
        raise


def _unwritable(path: Path, exc: OSError) -> CameraError:
    return CameraError(
        "output_unwritable",
        Text(zh=f"无法写入 {path.name}：{exc.strerror}", en=f"cannot write {path.name}: {exc.strerror}"),
    )


def run_profiles(args: argparse.Namespace, ctx) -> int:
    rows = []
    for name in available_profiles():
        try:
            p = load_profile(name)
        except CameraError as exc:
            rows.append({"id": name, "error": exc.code})
            continue
        rows.append({"id": p.id, "version": p.version, "width": p.width, "height": p.height, "dpi": p.dpi,
                     "bytes": [p.jpeg.min_bytes, p.jpeg.max_bytes], "title": p.title.as_dict()})  # fmt: skip
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        for row in rows:
            print(
                f"{row['id']}  {row.get('width')}×{row.get('height')}  {row.get('dpi')} dpi  {row.get('bytes')}"
            )
    return 0


def run_live(args: argparse.Namespace, ctx) -> int:
    """Drive a CaptureSession from the terminal: state changes and guidance, then the photo."""

    try:
        profile = load_profile(args.profile)
        if args.backdrop is not None:
            profile.background_rgb(args.backdrop)
        source = open_source(args.source)
    except CameraError as exc:
        return _error(args, exc)
    captured = threading.Event()
    photos = []
    states: list[str] = []

    def on_state(state: SourceState) -> None:
        states.append(state.value)
        if not args.json:
            print(f"[{state.value}] {STATE_MESSAGES.get(state, '')}", flush=True)

    def on_photo(photo) -> None:
        photos.append(photo)
        captured.set()

    session = CaptureSession(
        source, profile, background=args.backdrop, on_autocapture=on_photo, on_state=on_state
    )
    session.start()
    last_hint = None
    deadline = time.monotonic() + args.seconds
    try:
        while not captured.is_set() and time.monotonic() < deadline:
            captured.wait(0.5)
            report = session.latest_report()
            if report is None or args.json:
                continue
            hint = str(report.guidance())
            if hint != last_hint:
                print(f"  → {hint}", flush=True)
                last_hint = hint
    finally:
        session.stop()
    stats = session.stats
    payload: dict[str, Any] = {
        "ok": bool(photos),
        "profile": profile.id,
        "states": states,
        "frames": {"read": stats.read, "analysed": stats.analysed, "dropped": stats.dropped},
    }
    if not photos:
        report = session.latest_report()
        payload["checks"] = report.as_dict()["checks"] if report is not None else []
        payload["summary"] = str(Text(zh="规定时间内未能自动拍摄", en="no photo was auto-captured in time"))
        _emit(args, payload, report if not args.json else None)
        return 1
    photo = photos[0]
    payload.update(photo.report.as_dict())
    payload.update({"ok": True, "bytes": photo.size, "quality": photo.quality})
    if args.output is not None:
        try:
            _write_atomically(args.output, photo.jpeg_bytes)
        except CameraError as exc:
            return _error(args, exc)
        payload["output"] = str(args.output)
    payload["summary"] = str(
        Text(
            zh=f"已自动拍摄({photo.size} 字节,质量 {photo.quality})",
            en=f"auto-captured ({photo.size} bytes, quality {photo.quality})",
        )
    )
    _emit(args, payload, photo.report if not args.json else None)
    return 0
