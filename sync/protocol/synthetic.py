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
    ("王", "WANG"), ("李", "LI"), ("张", "ZHANG"), ("刘", "LIU"), ("陈", "CHEN"), ("杨", "YANG"),
    ("赵", "ZHAO"), ("黄", "HUANG"), ("周", "ZHOU"), ("吴", "WU"), ("徐", "XU"), ("孙", "SUN"),
    ("马", "MA"), ("高", "GAO"), ("郭", "GUO"), ("何", "HE"), ("白", "BAI"), ("韩", "HAN"),
]
_GIVEN = [
    ("子", "ZI"), ("涵", "HAN"), ("浩", "HAO"), ("宇", "YU"), ("欣", "XIN"), ("怡", "YI"), ("明", "MING"),
    ("轩", "XUAN"), ("雨", "YU"), ("佳", "JIA"), ("博", "BO"), ("文", "WEN"), ("思", "SI"), ("睿", "RUI"),
    ("嘉", "JIA"), ("琪", "QI"), ("晨", "CHEN"), ("阳", "YANG"), ("一", "YI"), ("诺", "NUO"),
]
# Mongolian given names as commonly written in Chinese characters, with a romanisation.
_MONGOLIAN_NAMES = [
    ("巴特尔", "BATUR"), ("乌云其其格", "UYUNCHICHIG"), ("苏日娜", "SURINA"), ("额尔敦", "ERDEN"),
    ("其木格", "CHIMEG"), ("阿拉坦", "ALTAN"), ("萨仁", "SAREN"), ("朝鲁", "CHULUU"), ("敖日格乐", "ORGIL"),
]
_STREETS = ["示例路", "演示街", "样例大街", "测试巷", "模拟路"]
# Rough shares for Inner Mongolia: Han, Mongol, then Hui, Manchu, Daur, Ewenki, Oroqen.
_NATIONS = [("01", 0.76), ("02", 0.18), ("03", 0.02), ("11", 0.02), ("14", 0.01), ("25", 0.005), ("51", 0.005)]


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
    address = f"内蒙古自治区{county.league_name_zh}{county.name_zh}{rng.choice(_STREETS)}{rng.randrange(1, 300)}号"
    if county.kind == "市辖区":
        issuer = f"{county.league_name_zh}公安局{county.name_zh}分局"
    else:
        issuer = f"{county.name_zh}公安局"
    return SyntheticPerson(name, pinyin, sex, nation, born, number, address, issuer, county.code6)
