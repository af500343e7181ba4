"""``station photo check|make``: exit codes, JSON shape, nothing written on refusal."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

from station.camera import cli
from station.camera.encode import inspect_jpeg
from tests.camera.portraits import negative, positive
from tests.support.stations import context_for

ROOT = Path(__file__).resolve().parents[2]


def run(argv: list[str], capsys) -> tuple[int, str]:
    parser = argparse.ArgumentParser(prog="station")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code = args.handler(args, context_for())
    return code, capsys.readouterr().out


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    good, off = folder / "good.png", folder / "off.png"
    cv2.imwrite(str(good), positive())
    cv2.imwrite(str(off), negative("off_centre"))
    (folder / "junk.jpg").write_bytes(b"\xff\xd8 truncated")
    return folder


def test_check_conforming_json(images, capsys):
    code, out = run(["photo", "check", str(images / "good.png"), "--json"], capsys)
    assert code == 0
    payload = json.loads(out)
    assert payload["ok"] is True and payload["profile"] == "moe-480"
    assert {"name", "status", "value", "message"} <= set(payload["checks"][0])
    assert {c["status"] for c in payload["checks"]} == {"pass"}
    assert payload["checks"][0]["message"]["zh"]


def test_check_not_conforming_names_the_reason(images, capsys):
    code, out = run(["photo", "check", str(images / "off.png"), "--json", "--profile", "ga461-358"], capsys)
    assert code == 1
    payload = json.loads(out)
    assert payload["ok"] is False and payload["profile"] == "ga461-358"
    failed = [c["name"] for c in payload["checks"] if c["status"] == "fail"]
    assert failed == ["framing"]


@pytest.mark.parametrize("name", ["junk.jpg", "missing.png"])
def test_unreadable_input_exits_2(images, capsys, name):
    code, out = run(["photo", "check", str(images / name), "--json"], capsys)
    assert code == 2
    assert json.loads(out)["error"]["code"] == "image_unreadable"


def test_unknown_profile_exits_2(images, capsys):
    code, out = run(["photo", "check", str(images / "good.png"), "--profile", "nope", "--json"], capsys)
    assert code == 2 and json.loads(out)["error"]["code"] == "profile_unknown"


def test_make_writes_a_conforming_photo(images, tmp_path, capsys):
    target = tmp_path / "out.jpg"
    code, out = run(["photo", "make", str(images / "good.png"), "-o", str(target), "--json"], capsys)
    assert code == 0
    payload = json.loads(out)
    data = target.read_bytes()
    assert payload["ok"] is True and payload["bytes"] == len(data) and 60 <= payload["quality"] <= 95
    assert (inspect_jpeg(data).width, inspect_jpeg(data).height) == (480, 640)
    assert [p.name for p in tmp_path.iterdir()] == ["out.jpg"]  # no temp file left behind


def test_make_refuses_and_writes_nothing(images, tmp_path, capsys):
    target = tmp_path / "out.jpg"
    code, out = run(["photo", "make", str(images / "off.png"), "-o", str(target), "--json"], capsys)
    assert code == 1
    payload = json.loads(out)
    assert payload["ok"] is False and payload["failed"] == ["framing"]
    assert not target.exists() and list(tmp_path.iterdir()) == []


def test_text_output_in_english(images, capsys, monkeypatch):
    from station import i18n

    monkeypatch.setattr(i18n, "_language", "en")
    code, out = run(["photo", "check", str(images / "off.png")], capsys)
    assert code == 1
    assert "✘ framing" in out and "does not conform" in out and "For the officer to confirm" in out


def test_profiles_listing(capsys):
    code, out = run(["photo", "profiles", "--json"], capsys)
    assert code == 0 and {row["id"] for row in json.loads(out)} >= {"moe-480", "ga461-358"}


def test_station_entry_point(images, tmp_path):
    """The real ``python -m station photo ...`` as the officer runs it."""
    result = subprocess.run(
        [sys.executable, "-m", "station", "photo", "make", str(images / "good.png"), "-o", str(tmp_path / "p.jpg"),
         "--profile", "ga461-358", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["profile"] == "ga461-358" and 14 * 1024 <= payload["bytes"] <= 20000


def test_live_auto_captures_from_the_simulated_camera(tmp_path, capsys):
    target = tmp_path / "live.jpg"
    code, out = run(
        ["photo", "live", "--source", "sim", "--seconds", "20", "-o", str(target), "--json"], capsys
    )
    assert code == 0, out
    payload = json.loads(out)
    assert payload["ok"] is True and payload["states"][0] == "open"
    assert payload["bytes"] == len(target.read_bytes())
    assert {c["status"] for c in payload["checks"]} == {"pass"}


def test_live_gives_up_on_a_subject_who_never_conforms(tmp_path, capsys):
    folder = tmp_path / "frames"
    folder.mkdir()
    cv2.imwrite(str(folder / "a.png"), negative("off_centre"))
    code, out = run(["photo", "live", "--source", f"folder:{folder}", "--seconds", "1.5", "--json"], capsys)
    assert code == 1
    payload = json.loads(out)
    assert payload["ok"] is False and "framing" in [
        c["name"] for c in payload["checks"] if c["status"] == "fail"
    ]


def test_live_rejects_a_bad_source_spec(capsys):
    code, out = run(["photo", "live", "--source", "floppy:a", "--json"], capsys)
    assert code == 2 and json.loads(out)["error"]["code"] == "source_spec_invalid"


def test_make_into_a_missing_directory_is_a_clear_error(images, tmp_path, capsys):
    target = tmp_path / "no-such-dir" / "p.jpg"
    code, out = run(["photo", "make", str(images / "good.png"), "-o", str(target), "--json"], capsys)
    assert code == 2
    error = json.loads(out)["error"]
    assert error["code"] == "output_unwritable" and "p.jpg" in error["message"]["zh"]
    assert not target.parent.exists()
