"""``station idcard list | read | parse``: output, JSON keys and exit codes 0 / 1 / 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from station.__main__ import main
from station.idcard import commands as cmd
from station.idcard.frames import build_response
from tests.idcard import cards
from tests.idcard.conftest import VPCD_PORT, VPCD_READER
from tests.idcard.vcard import VirtualIdCard

KEYS = {
    "card_type", "name", "name_en", "sex", "nation", "birth_date", "address", "id_number", "issuer",
    "valid_from", "valid_until", "chip_serial", "sam_id", "photo_wlt_sha256",
}  # fmt: skip


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["--lang", "en", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_read_sim_json(capsys):
    code, out, _ = run(capsys, "idcard", "read", "--reader", "sim", "--json", "--timeout", "2")
    data = json.loads(out)
    assert code == 0 and set(data) >= KEYS and data["card_type"] == "resident"
    assert data["sam_id"] and len(data["photo_wlt_sha256"]) == 64


def test_read_sim_human_text_and_photo(capsys, tmp_path, shim_libs):
    photo = tmp_path / "photo.bmp"
    code, out, _ = run(
        capsys, "idcard", "read", "--reader", "sim:seed=2", "--photo", str(photo),
        "--wlt-decoder", str(shim_libs["wlt_shim"]),
    )  # fmt: skip
    assert code == 0 and "Number:" in out and photo.read_bytes()[:2] == b"BM"


@pytest.mark.parametrize(
    ("spec", "code"),
    [("sim:fault=no_card", 1), ("sim:fault=sw3=0x32", 1), ("sim:fault=remove_mid_read", 1),
     ("sim:fault=gone", 2), ("sim:fault=timeout", 2), ("bogus:thing", 2), ("sim:fault=nonsense", 2),
     ("usb:0400:c35a", 2), ("usb:zz", 2), ("sdk:/nonexistent/libsdtapi.so", 2), ("serial:/dev/nonexistent-tty", 2)],
)  # fmt: skip
def test_read_exit_codes(capsys, spec, code):
    status, out, err = run(capsys, "idcard", "read", "--reader", spec, "--timeout", "0.5", "--json")
    assert status == code
    assert json.loads(out)["error"]["message"]["zh"] and err.strip()


def test_read_over_pty_as_a_subprocess(sam_line):
    done = subprocess.run(
        [sys.executable, "-m", "station", "idcard", "read", "--reader", f"serial:{sam_line.path}", "--json",
         "--timeout", "3"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["id_number"] == cards.resident().id_number


@pytest.mark.pcsc
def test_read_over_pcsc(capsys, pcscd):
    chip = cards.foreign_2023()
    card = VirtualIdCard(chip.raw_text, chip.raw_wlt, port=VPCD_PORT).insert()
    try:
        code, out, _ = run(
            capsys, "idcard", "read", "--reader", f"pcsc:{VPCD_READER}", "--json", "--timeout", "5"
        )
    finally:
        card.remove()
    data = json.loads(out)
    assert code == 0 and data["card_type"] == "foreign_2023" and data["chip_serial"] == "0123456789ABCDEF"


def test_parse_saved_frames_and_blocks(capsys, tmp_path):
    chip = cards.resident(1, long_term=True)
    frame = tmp_path / "read.bin"
    frame.write_bytes(build_response(0x90, cmd.build_base_message(chip.raw_text, chip.raw_wlt, b"")))
    code, out, _ = run(capsys, "idcard", "parse", str(frame), "--json")
    assert code == 0 and json.loads(out)["valid_until"] == "长期"
    block = tmp_path / "text.bin"
    block.write_bytes(cards.foreign_2017().raw_text)
    code, out, _ = run(capsys, "idcard", "parse", str(block))
    assert code == 0 and "English name:" in out


def test_parse_bad_input(capsys, tmp_path):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x01\x02" * 99)
    code, out, err = run(capsys, "idcard", "parse", str(junk), "--json")
    assert code == 2 and json.loads(out)["error"]["code"] == "not_card_data"
    code, _, err = run(capsys, "idcard", "parse", str(tmp_path / "missing.bin"))
    assert code == 2 and "Cannot read the file" in err


def test_list(capsys, shim_libs, monkeypatch):
    monkeypatch.setenv("STATION_IDCARD_SDK", str(shim_libs["sdtapi_shim"]))
    monkeypatch.setenv("STATION_IDCARD_SERIAL_PORTS", "")  # no slow probing of the machine's own ports
    code, out, _ = run(capsys, "idcard", "list", "--json")
    assert code == 0 and any(item["kind"] == "sdk" for item in json.loads(out))


def test_bare_idcard_prints_help(capsys):
    code, out, _ = run(capsys, "idcard")
    assert code == 2 and "list" in out


def test_watch_prints_events_until_count(capsys):
    code, out, _ = run(capsys, "idcard", "watch", "--reader", "sim:cycle=0.1", "--count", "2", "--json")
    events = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [e["event"] for e in events].count("result") == 2
    assert events[0]["event"] == "reader_ready" and set(events[-1]["card"]) >= KEYS


def test_watch_reports_a_missing_reader_and_gives_up_after_duration(capsys):
    code, out, _ = run(capsys, "idcard", "watch", "--reader", "serial:/dev/nonexistent-tty", "--duration", "0.5",
                       "--count", "1")  # fmt: skip
    assert code == 1 and "[reader_lost]" in out
