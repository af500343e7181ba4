"""Synthetic pre-registrations for a county (``sync-registry seed``): never real people.

People come from ``sync.protocol.synthetic`` (valid ID numbers, deterministic from the seed). They are
spread over schools (about 400 students each, codes ``<county><4 digits>``) and classes of about 45.
Status mix: about 85 % approved (waiting for capture), 8 % captured at 中考 (registered without a
capture), 7 % pending approval. ``student_id`` is ``<county>-<season>-<seed>-<index>``, so seeding
again with the same seed adds nothing twice.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from sqlalchemy import insert, select

from sync.protocol import codes, synthetic
from sync.registry.core import Registry
from sync.registry.db import Student
from sync.registry.errors import AdminError
from sync.registry.feed import bump_feed, ensure_county

STUDENTS_PER_SCHOOL = 400
STUDENTS_PER_CLASS = 45


@dataclass(frozen=True)
class SeedSummary:
    county: str
    added: int
    approved: int
    captured_at_zhongkao: int
    pending: int


def seed_county(registry: Registry, county: str, count: int, season: int, seed: int = 0) -> SeedSummary:
    division = codes.county(county)
    if division is None:
        raise AdminError("BAD_COUNTY", f"{county} is not a current registering county")
    if season != registry.season:
        raise AdminError("WRONG_SEASON", f"this registry is for entry year {registry.season}")
    if count < 0:
        raise AdminError("BAD_COUNT", "the number of students must be >= 0")
    people = synthetic.people(count, county, seed=seed, birth_year=season - 16)
    rng = random.Random(f"seed:{county}:{season}:{seed}")
    with registry.db.write() as session:
        ensure_county(session, county, season)
        existing_ids = set(session.scalars(select(Student.student_id).where(Student.county == county)))
        taken_numbers = set(session.scalars(select(Student.national_id).where(Student.season == season)))
        rows = []
        for index, person in enumerate(people):
            student_id = f"{county}-{season}-{seed}-{index:06d}"
            if student_id in existing_ids or person.id_number in taken_numbers:
                continue
            school_no = index // STUDENTS_PER_SCHOOL + 1
            class_no = (index % STUDENTS_PER_SCHOOL) // STUDENTS_PER_CLASS + 1
            roll = rng.random()
            status = "approved" if roll < 0.85 else "captured_at_zhongkao" if roll < 0.93 else "pending"
            mongolian = person.nation == "02" and rng.random() < 0.5
            rows.append(
                {
                    "student_id": student_id,
                    "season": season,
                    "county": county,
                    "national_id": person.id_number,
                    "name": person.name,
                    "sex": person.sex,
                    "nation": person.nation,
                    "birth_date": person.birth_date.isoformat(),
                    "political_status": "03" if rng.random() < 0.4 else "13",
                    "school_code": f"{county}{school_no:04d}",
                    "school_name": f"{division.name_zh}第{school_no}中学",
                    "class_no": f"{class_no:02d}",
                    "teaching_language": "蒙古语" if mongolian else "汉语",
                    "student_category": "借读" if rng.random() < 0.02 else "普通",
                    "status": status,
                    "version": 1,
                }
            )
        if rows:
            head = bump_feed(session, county, by=len(rows))
            for offset, row in enumerate(rows):
                row["seq"] = head - len(rows) + 1 + offset
            for start in range(0, len(rows), 5000):
                session.execute(insert(Student), rows[start : start + 5000])
    statuses = [row["status"] for row in rows]
    return SeedSummary(
        county=county,
        added=len(rows),
        approved=statuses.count("approved"),
        captured_at_zhongkao=statuses.count("captured_at_zhongkao"),
        pending=statuses.count("pending"),
    )
