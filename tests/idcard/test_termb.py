"""termb-style SDK readers (Huashi CVR_* functions): ctypes against a gcc-compiled shim."""

from __future__ import annotations

import ctypes

import pytest

from station.idcard.discovery import open_reader
from station.idcard.errors import CardRemovedError, NoCardError, NoReaderError
from station.idcard.transports.termb import TermbReader
from station.idcard.wlt import placeholder_bmp
from sync.protocol.chiptext import parse_text
from tests.idcard import cards


@pytest.fixture
def termb(shim_libs):
    lib = ctypes.CDLL(str(shim_libs["termb_shim"]))
    chip = cards.resident(1, long_term=True)
    fields = {
        "name": chip.name, "sex": "男" if chip.sex == "1" else "女", "nation_code": chip.nation, "nation": "",
        "birthday": chip.birth_date.strftime("%Y%m%d"), "address": chip.address, "id": chip.id_number,
        "department": chip.issuer, "start": chip.valid_from.strftime("%Y%m%d"), "end": "长期", "cert_type": " ",
        "chinese_name": "",
    }  # fmt: skip
    for key, value in fields.items():
        lib.shim_termb_field(key.encode(), value.encode("gb18030"))
    bmp = placeholder_bmp()
    lib.shim_termb_card(1, bmp, len(bmp))
    lib.shim_termb_configure(1001, 1)
    yield lib, chip
    lib.shim_termb_card(0, None, 0)


def test_spec_picks_the_termb_flavour_and_reads(termb, shim_libs):
    _lib, expected = termb
    reader = open_reader(f"sdk:{shim_libs['termb_shim']}")
    assert isinstance(reader, TermbReader)
    with reader:
        chip = reader.read_card(timeout=3)
        assert reader.info.spec.endswith("#1001")
    assert chip.to_dict()["valid_until"] == "长期"
    for key in ("name", "sex", "nation", "birth_date", "address", "id_number", "issuer", "valid_from"):
        assert getattr(chip, key) == getattr(expected, key)
    assert chip.raw_text == expected.raw_text  # rebuilt from the fields, byte for byte
    assert parse_text(chip.raw_text).id_number == expected.id_number
    assert chip.extra["raw_text_source"] == "sdk_fields" and chip.photo_bmp == placeholder_bmp()
    assert chip.raw_wlt == b"" and chip.photo_wlt_sha256 is None and chip.sam_id.startswith("05.01")


def test_nation_by_name_when_no_code(termb, shim_libs):
    lib, _ = termb
    lib.shim_termb_field(b"nation_code", b"")
    lib.shim_termb_field(b"nation", "蒙古族".encode("gb18030"))
    with open_reader(f"sdk:{shim_libs['termb_shim']}") as reader:
        assert reader.read_card(timeout=3).nation == "02"


def test_no_card_removed_card_and_no_reader(termb, shim_libs):
    lib, _ = termb
    path = f"sdk:{shim_libs['termb_shim']}"
    with open_reader(path) as reader:
        reader.read_card(timeout=3)
        assert not reader.card_present()  # read once: remove before the next read
        with pytest.raises(NoCardError):
            reader.read_card(timeout=3)
    lib.shim_termb_card(1, None, 0)
    lib.shim_termb_configure(1001, 0)
    with open_reader(path) as reader, pytest.raises(CardRemovedError):
        reader.read_card(timeout=3)
    lib.shim_termb_configure(0, 1)
    with pytest.raises(NoReaderError):
        open_reader(path).open()


def test_cli_writes_the_sdk_photo(termb, shim_libs, tmp_path, capsys):
    from station.__main__ import main

    photo = tmp_path / "p.bmp"
    code = main(
        ["idcard", "read", "--reader", f"sdk:{shim_libs['termb_shim']}", "--json", "--photo", str(photo)]
    )
    assert code == 0 and photo.read_bytes() == placeholder_bmp()
    assert '"raw_text_source": "sdk_fields"' in capsys.readouterr().out
