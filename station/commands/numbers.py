"""``station id check`` and ``station regno parse``: the number rules at the officer's fingertips."""

from __future__ import annotations

from station.commands.output import print_json
from station.domain.identity import describe_id, explain_invalid_id, explain_invalid_regno
from station.i18n import Text, current_language
from sync.protocol import idnumber, regno


def register(subparsers) -> None:
    id_parser = subparsers.add_parser("id", help="ID number rules / 身份证号校验")
    id_sub = id_parser.add_subparsers(dest="id_command", required=True)
    check = id_sub.add_parser("check", help="check ID numbers (GB 11643)")
    check.add_argument("numbers", nargs="+", metavar="NUMBER")
    check.add_argument("--json", action="store_true")
    check.set_defaults(handler=check_ids)

    regno_parser = subparsers.add_parser("regno", help="registration numbers / 考籍号")
    regno_sub = regno_parser.add_subparsers(dest="regno_command", required=True)
    parse = regno_sub.add_parser("parse", help="split and check 11-digit registration numbers")
    parse.add_argument("numbers", nargs="+", metavar="NUMBER")
    parse.add_argument("--json", action="store_true")
    parse.set_defaults(handler=parse_regnos)


def check_ids(args, ctx) -> int:
    results = []
    for raw in args.numbers:
        try:
            number = idnumber.parse(raw)
        except idnumber.InvalidIdNumber as error:
            results.append(
                {"input": raw, "valid": False, "code": error.code, "reason": explain_invalid_id(error)}
            )
        else:
            results.append(
                {
                    "input": raw,
                    "valid": True,
                    "number": number.number,
                    "kind": number.kind,
                    "birth_date": number.birth_date.isoformat(),
                    "sex": number.sex,
                    "place_code": number.place_code,
                    "description": describe_id(number),
                }
            )
    if args.json:
        print_json([_jsonable(r) for r in results])
    else:
        for r in results:
            verdict = r["description"] if r["valid"] else r["reason"]
            mark = "✔" if r["valid"] else "✘"
            print(f"{mark} {r['input']}: {verdict}")
    return 0 if all(r["valid"] for r in results) else 1


def parse_regnos(args, ctx) -> int:
    results = []
    for raw in args.numbers:
        try:
            parsed = regno.parse(raw)
        except regno.InvalidRegistrationNumber as error:
            results.append(
                {"input": raw, "valid": False, "code": error.code, "reason": explain_invalid_regno(error)}
            )
        else:
            results.append(
                {
                    "input": raw,
                    "valid": True,
                    "year": parsed.year,
                    "league_code": parsed.league_code,
                    "league_name": parsed.league_name,
                    "county_code": parsed.county_code6[4:6],
                    "county_code6": parsed.county_code6,
                    "county_name": parsed.county_name,
                    "serial": parsed.serial,
                }
            )
    if args.json:
        print_json([_jsonable(r) for r in results])
    else:
        for r in results:
            if r["valid"]:
                line = Text(
                    "{year} 级 · {league_name}({league_code}) · {county_name}({county_code}) · 流水号 {serial:05d}",
                    "entry {year} · league/city {league_code} {league_name} · county {county_code} {county_name}"
                    " · serial {serial:05d}",
                )
                print(
                    f"✔ {r['input']}: {line.zh.format(**r) if current_language() == 'zh' else line.en.format(**r)}"
                )
            else:
                print(f"✘ {r['input']}: {r['reason']}")
    return 0 if all(r["valid"] for r in results) else 1


def _jsonable(result: dict) -> dict:
    return {k: (str(v) if hasattr(v, "as_dict") else v) for k, v in result.items()} | {
        k + "_en": v.en for k, v in result.items() if hasattr(v, "as_dict")
    }
