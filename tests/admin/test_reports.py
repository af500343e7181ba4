"""Reports for the county administrator: progress per class (today and the season), the class
sign-off sheet as PDF (rendered with pdftoppm, read back with pdftotext), a receipt and the CSV export
— each disclosure audited, ID numbers masked to their last four digits, administrators only."""

from __future__ import annotations

import csv
import json
import subprocess
import unicodedata

from station.admin.reports import Reports
from tests.admin.conftest import ADMIN, ADMIN_PASSWORD, queue_rows
from tests.support.system import require_tool

AS_ADMIN = ("--operator", ADMIN, "--password-stdin")


def _pdf_text(path) -> str:
    pdftotext = require_tool("pdftotext", "poppler-utils")
    out = subprocess.run(
        [pdftotext, "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    # Qt's PDF text map names some ideographs by their Kangxi-radical twins (⼟ for 土): same glyph, NFKC folds them.
    return unicodedata.normalize("NFKC", out)


def test_progress_counts_the_season_and_today(season):
    progress = Reports(season.app, ADMIN).progress()
    row = next(c for c in progress.classes if (c.school_code, c.class_no) == (season.school, season.class_no))
    assert row.season.as_dict() == {
        "approved": len(season.class_rows), "captured": 3, "synced": 2, "registered": 2, "rejected": 0,
    }  # fmt: skip
    assert row.today.as_dict() == {"approved": 0, "captured": 3, "synced": 2, "registered": 2, "rejected": 0}
    approved = sum(1 for r in queue_rows() if r["status"] == "approved")
    assert progress.season.as_dict() == {
        "approved": approved, "captured": 3, "synced": 3, "registered": 2, "rejected": 1,
    }  # fmt: skip


def test_progress_command_prints_json_for_administrators_only(season, station_cli):
    refused = station_cli("report", "progress", "--json")
    assert refused.code == 2 and "--operator" in refused.err
    done = station_cli("report", "progress", "--json", *AS_ADMIN, stdin=f"{ADMIN_PASSWORD}\n")
    assert done.code == 0, done.err
    report = json.loads(done.out)
    assert report["season"]["registered"] == 2 and report["today"]["captured"] == 3
    assert {(c["school_code"], c["class_no"]) for c in report["classes"]} >= {
        (season.school, season.class_no)
    }


def test_signoff_sheet_pdf_holds_the_class_masked_ids_and_numbers(season, station_cli, tmp_path):
    target = tmp_path / "sheet.pdf"
    class_no = str(int(season.class_no))  # "3" finds class "03"
    done = station_cli(
        "report", "signoff", "--school", season.school, "--class", class_no, "-o", str(target), *AS_ADMIN,
        stdin=f"{ADMIN_PASSWORD}\n",
    )  # fmt: skip
    assert done.code == 0, done.err
    text = _pdf_text(target)
    everyone = [
        r for r in queue_rows() if (r["school_code"], r["class_no"]) == (season.school, season.class_no)
    ]
    assert everyone[0]["school_name"] in text and season.school in text
    for row in everyone:
        assert row["name"] in text
        assert "*" * 14 + row["national_id"][-4:] in text
        assert row["national_id"] not in text  # never the whole number
    for reg_no in season.registered.values():
        assert reg_no in text
    assert text.count("待注册") == len(everyone) - len(season.registered)
    assert "学生签字" in text and "班主任签字" in text

    pdftoppm = require_tool("pdftoppm", "poppler-utils")
    subprocess.run([pdftoppm, "-r", "40", "-png", str(target), str(tmp_path / "page")], check=True)
    import numpy as np
    from PIL import Image

    page = np.asarray(Image.open(sorted(tmp_path.glob("page*.png"))[0]).convert("RGB")).astype(int)
    coloured = (page.max(axis=2) - page.min(axis=2)) > 40
    assert coloured.sum() > 200  # the photo thumbnails are on the page, not only black text

    signoff = season.app.database.audit.list(action="signoff")
    assert [(e.operator, e.subject) for e in signoff] == [(ADMIN, f"class:{season.school}/{season.class_no}")]


def test_receipt_and_export_are_audited(season, station_cli, tmp_path):
    student_id, reg_no = next(iter(season.registered.items()))
    receipt = tmp_path / "receipt.pdf"
    done = station_cli("report", "receipt", "--student", student_id, "-o", str(receipt), *AS_ADMIN,
                       stdin=f"{ADMIN_PASSWORD}\n")  # fmt: skip
    assert done.code == 0, done.err
    text = _pdf_text(receipt)
    national_id = next(r["national_id"] for r in queue_rows() if r["student_id"] == student_id)
    assert reg_no in text and national_id[-4:] in text and national_id not in text

    exported = tmp_path / "figures.csv"
    done = station_cli("report", "export", "-o", str(exported), *AS_ADMIN, stdin=f"{ADMIN_PASSWORD}\n")
    assert done.code == 0, done.err
    rows = list(csv.reader(exported.open(encoding="utf-8-sig")))
    assert rows[0][:5] == ["学校代码", "学校", "班级", "审核通过", "已采集"]
    total = next(r for r in rows if r[1] == "合计")
    assert total[3:8] == [str(sum(1 for r in queue_rows() if r["status"] == "approved")), "3", "3", "2", "1"]
    audit = season.app.database.audit
    assert [e.subject for e in audit.list(action="receipt")] == [student_id]
    assert audit.list(action="export")[0].detail == {
        "kind": "progress",
        "rows": len(rows) - 3,
        "file": "figures.csv",
    }

    unwritable = station_cli("report", "export", "-o", str(tmp_path / "no-such-dir" / "x.csv"), *AS_ADMIN,
                             stdin=f"{ADMIN_PASSWORD}\n")  # fmt: skip
    assert unwritable.code == 2 and "无法写入" in unwritable.err
    assert len(audit.list(action="export")) == 1  # nothing exported, nothing audited


def test_an_officer_gets_no_report_and_nothing_is_written(season, station_cli, tmp_path):
    from station.admin.accounts import Accounts

    Accounts(season.app, ADMIN).add("bai", "officer-pass-1", role="operator")
    target = tmp_path / "sheet.pdf"
    done = station_cli("report", "signoff", "--school", season.school, "--class", season.class_no, "-o",
                       str(target), "--operator", "bai", "--password-stdin", stdin="officer-pass-1\n")  # fmt: skip
    assert done.code == 2 and "旗县管理员" in done.err
    assert not target.exists() and not season.app.database.audit.list(action="signoff")
    unknown = station_cli("report", "signoff", "--school", season.school, "--class", "99", "-o", str(target),
                          *AS_ADMIN, stdin=f"{ADMIN_PASSWORD}\n")  # fmt: skip
    assert unknown.code == 2 and not target.exists()
