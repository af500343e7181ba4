"""Fixtures for the store tests: a real SQLCipher station in a temporary STATION_HOME, synthetic
people, a real JPEG (scikit-image's astronaut photograph) and capture records built by the domain."""

from __future__ import annotations

import io
import uuid
from datetime import datetime

import pytest

from station.domain.records import CaptureRecord, ChipEvidence
from station.store import StationDatabase
from station.store.rows import QueuedStudent, RecordRow
from sync.protocol import synthetic
from tests.support.stations import OFFICER

COUNTY = "150102"


@pytest.fixture(scope="session")
def jpeg() -> bytes:
    from PIL import Image
    from skimage import data

    buffer = io.BytesIO()
    Image.fromarray(data.astronaut()).resize((480, 640)).save(buffer, "JPEG", quality=75)
    return buffer.getvalue()


@pytest.fixture(scope="session")
def people() -> list[synthetic.SyntheticPerson]:
    return synthetic.people(40, COUNTY, seed=7)


@pytest.fixture
def created(station_home):
    """A freshly set-up station: (open database, recovery code)."""
    database, code = StationDatabase.create(station_home, admin=OFFICER)
    yield database, code
    database.close()


@pytest.fixture
def station(created) -> StationDatabase:
    return created[0]


def student_for(
    person: synthetic.SyntheticPerson,
    *,
    school: str = "S001",
    class_no: str = "1",
    version: int = 1,
    student_id: str | None = None,
) -> QueuedStudent:
    return QueuedStudent(
        student_id=student_id or f"stu-{person.id_number[-6:]}",
        national_id=person.id_number,
        name=person.name,
        sex=person.sex,
        nation=person.nation,
        birth_date=person.birth_date.isoformat(),
        political_status="13",
        school_code=school,
        school_name="示例第一中学",
        class_no=class_no,
        teaching_language="汉语",
        student_category="普通",
        county_code6=COUNTY,
        status="approved",
        version=version,
    )


def chip_text_for(person: synthetic.SyntheticPerson) -> bytes:
    """A 256-byte UCS-2LE text block as the card holds it (name, sex, nation, birth, address, number...)."""
    fields = (
        person.name.ljust(15)
        + person.sex
        + person.nation
        + person.birth_date.strftime("%Y%m%d")
        + person.address.ljust(35)[:35]
        + person.id_number
        + person.issuer.ljust(15)[:15]
        + "2020010120300101"
    )
    return fields.ljust(128)[:128].encode("utf-16-le")


def capture_for(
    person: synthetic.SyntheticPerson,
    jpeg: bytes,
    *,
    operator: str = "op1",
    supersedes: str | None = None,
    captured_at: datetime | None = None,
) -> RecordRow:
    capture = CaptureRecord.new(
        student_id=f"stu-{person.id_number[-6:]}",
        national_id=person.id_number,
        station_id="ST-150102-01",
        county_code6=COUNTY,
        operator=operator,
        chip=ChipEvidence(
            text=chip_text_for(person), wlt=bytes(range(256)) * 4, chip_serial=uuid.uuid4().hex[:16].upper()
        ),
        photo_jpeg=jpeg,
        photo_profile="moe-exam",
        quality={"sharpness": 0.91, "face_ratio": 0.62},
        comparison={"name": {"chip": person.name, "queue": person.name, "agree": True}},
        supersedes=supersedes,
        **({"captured_at": captured_at} if captured_at else {}),
    )
    return RecordRow.from_capture(capture)


def table_rows(database: StationDatabase) -> dict[str, int]:
    """Rows in the tables themselves: records, outbox and the "capture" audit entries, counted apart
    (``records.list()`` joins the outbox, so a record without its outbox row would be invisible to it)."""
    import sqlalchemy as sa

    with database.read() as conn:
        return {
            "records": conn.execute(sa.text("SELECT count(*) FROM records")).scalar_one(),
            "outbox": conn.execute(sa.text("SELECT count(*) FROM outbox")).scalar_one(),
            "capture_audit": conn.execute(
                sa.text("SELECT count(*) FROM audit_log WHERE action = 'capture'")
            ).scalar_one(),
        }


NOTHING_SAVED = {"records": 0, "outbox": 0, "capture_audit": 0}
