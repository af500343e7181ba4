"""Synthetic people for tests, demos and officer training: never real personal data.

Everything is generated from a seed, so a test or a demo database is reproducible. Names are drawn
from common characters (with pinyin for the English fields), ID numbers are valid (a real place code,
a plausible birth date, a correct check digit), and addresses name streets that are made up
("示例路", "演示街"), so a synthetic record is recognisable as such when it turns up anywhere.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from sync.protocol import codes, idnumber

_SURNAMES = [
    ("王", "WANG"),
    ("李", "LI"),
    ("张", "ZHANG"),
    ("刘", "LIU"),
    ("陈", "CHEN"),
    ("杨", "YANG"),
    ("赵", "ZHAO"),
    ("黄", "HUANG"),
    ("周", "ZHOU"),
    ("吴", "WU"),
    ("徐", "XU"),
    ("孙", "SUN"),
    ("马", "MA"),
    ("高", "GAO"),
    ("郭", "GUO"),
    ("何", "HE"),
    ("白", "BAI"),
    ("韩", "HAN"),
]
_GIVEN = [
    ("子", "ZI"),
    ("涵", "HAN"),
    ("浩", "HAO"),
    ("宇", "YU"),
    ("欣", "XIN"),
    ("怡", "YI"),
    ("明", "MING"),
    ("轩", "XUAN"),
    ("雨", "YU"),
    ("佳", "JIA"),
    ("博", "BO"),
    ("文", "WEN"),
    ("思", "SI"),
    ("睿", "RUI"),
    ("嘉", "JIA"),
    ("琪", "QI"),
    ("晨", "CHEN"),
    ("阳", "YANG"),
    ("一", "YI"),
    ("诺", "NUO"),
]
# Mongolian given names as commonly written in Chinese characters, with a romanisation.
_MONGOLIAN_NAMES = [
    ("巴特尔", "BATUR"),
    ("乌云其其格", "UYUNCHICHIG"),
    ("苏日娜", "SURINA"),
    ("额尔敦", "ERDEN"),
    ("其木格", "CHIMEG"),
    ("阿拉坦", "ALTAN"),
    ("萨仁", "SAREN"),
    ("朝鲁", "CHULUU"),
    ("敖日格乐", "ORGIL"),
]
_STREETS = ["示例路", "演示街", "样例大街", "测试巷", "模拟路"]
# Rough shares for Inner Mongolia: Han, Mongol, then Hui, Manchu, Daur, Ewenki, Oroqen.
_NATIONS = [
    ("01", 0.76),
    ("02", 0.18),
    ("03", 0.02),
    ("11", 0.02),
    ("14", 0.01),
    ("25", 0.005),
    ("51", 0.005),
]


@dataclass(frozen=True)
class SyntheticPerson:
    name: str
    name_pinyin: str
    sex: str  # "1" male, "2" female
    nation: str  # GB/T 3304 code
    birth_date: date
    id_number: str
    address: str
    issuer: str
    county_code6: str


def people(count: int, county_code6: str, seed: int = 0, birth_year: int = 2010) -> list[SyntheticPerson]:
    """``count`` distinct synthetic people whose ID numbers were first registered in ``county_code6``."""
    county = codes.county(county_code6)
    if county is None:
        raise ValueError(f"{county_code6} is not a current registering county")
    rng = random.Random(f"{seed}:{county_code6}:{birth_year}")
    seen: set[str] = set()
    result: list[SyntheticPerson] = []
    while len(result) < count:
        person = _one(rng, county, birth_year)
        if person.id_number not in seen:
            seen.add(person.id_number)
            result.append(person)
    return result


def _one(rng: random.Random, county: codes.Division, birth_year: int) -> SyntheticPerson:
    sex = rng.choice("12")
    nation = rng.choices([c for c, _ in _NATIONS], weights=[w for _, w in _NATIONS])[0]
    if nation == "02" and rng.random() < 0.6:
        name, pinyin = rng.choice(_MONGOLIAN_NAMES)
    else:
        surname, surname_py = rng.choice(_SURNAMES)
        given = rng.sample(_GIVEN, rng.choice((1, 2)))
        name = surname + "".join(ch for ch, _ in given)
        pinyin = surname_py + " " + "".join(py for _, py in given)
    born = date(birth_year, 1, 1) + timedelta(days=rng.randrange(365))
    number = idnumber.make(county.code6, born, rng.randrange(1000), sex)
    address = (
        f"内蒙古自治区{county.league_name_zh}{county.name_zh}{rng.choice(_STREETS)}{rng.randrange(1, 300)}号"
    )
    if county.kind == "市辖区":
        issuer = f"{county.league_name_zh}公安局{county.name_zh}分局"
    else:
        issuer = f"{county.name_zh}公安局"
    return SyntheticPerson(name, pinyin, sex, nation, born, number, address, issuer, county.code6)


_SCHOOL_SUFFIXES = ["第一中学", "第二中学", "蒙古族中学", "实验中学"]
# Share of each status in a synthetic county queue: most approved, some captured at 中考, a few pending.
_STATUS_SHARES = [("approved", 0.80), ("captured_at_zhongkao", 0.12), ("pending", 0.08)]


def schools(county_code6: str) -> list[tuple[str, str]]:
    """Synthetic schools of a county: (10-digit school code, name)."""
    county = codes.county(county_code6)
    if county is None:
        raise ValueError(f"{county_code6} is not a current registering county")
    return [
        (f"{county_code6}{index:04d}", f"{county.name_zh}{suffix}")
        for index, suffix in enumerate(_SCHOOL_SUFFIXES, 1)
    ]


def preregistrations(count: int, county_code6: str, seed: int = 0, entry_year: int = 2026) -> list[dict]:
    """A county's synthetic pre-registrations, with the fields of the approvals feed (COMMON order).

    Students are 15-16 at entry; Mongolian-medium schools get Mongolian teaching language.
    """
    rng = random.Random(f"prereg:{seed}:{county_code6}:{entry_year}")
    county_schools = schools(county_code6)
    result = []
    for index, person in enumerate(people(count, county_code6, seed=seed, birth_year=entry_year - 16)):
        school_code, school_name = rng.choice(county_schools)
        status = rng.choices([s for s, _ in _STATUS_SHARES], weights=[w for _, w in _STATUS_SHARES])[0]
        result.append(
            {
                "student_id": f"{entry_year}{county_code6}{index + 1:06d}",
                "national_id": person.id_number,
                "name": person.name,
                "sex": person.sex,
                "nation": person.nation,
                "birth_date": person.birth_date.isoformat(),
                "political_status": rng.choice(["03", "13"]),
                "school_code": school_code,
                "school_name": school_name,
                "class_no": f"{rng.randrange(1, 4):02d}",
                "teaching_language": "蒙古语" if "蒙古族" in school_name else "汉语",
                "student_category": "借读" if rng.random() < 0.03 else "普通",
                "county_code6": county_code6,
                "status": status,
                "version": 1,
            }
        )
    return result
