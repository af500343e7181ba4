"""``station demo``: a demonstration station with a synthetic county queue, then the desk.

It sets up (once) an encrypted station database in the demo directory, enrolls it as a demo station of
土默特左旗 (150121) with the simulated card reader and camera, fills the queue with synthetic students
(the simulated reader serves the same synthetic people, so their cards match), prints the queue by
school and class, and opens the desk window when there is a screen. Nothing here is real personal data.
"""

from __future__ import annotations

import os
from collections import Counter
from datetime import date
from pathlib import Path

import platformdirs

from station import config as station_config
from station.commands.output import print_json
from station.i18n import Text

DEMO_COUNTY = "150121"
DEMO_STATION = "DEMO-01"
DEMO_SEED = 2026


def register(subparsers) -> None:
    parser = subparsers.add_parser("demo", help="run a demonstration station / 演示")
    parser.add_argument("--students", type=int, default=60, help="size of the synthetic queue (first run)")
    parser.add_argument("--no-gui", action="store_true", help="only set up and list the queue")
    parser.add_argument("--json", action="store_true", help="print the queue summary as JSON")
    from station.commands.gui import add_gui_options

    add_gui_options(parser)
    parser.set_defaults(handler=run)


def demo_home(settings) -> Path:  # type: ignore[no-untyped-def]
    """The station home the settings name (STATION_HOME), else a demo directory of its own."""
    given = settings.runtime.home
    return Path(given) if given else Path(platformdirs.user_data_dir("capture-station-demo", appauthor=False))


def setup_demo_station(settings, students: int, *, card_cycle_seconds: float = 8.0) -> str | None:  # type: ignore[no-untyped-def]
    """Create the demo station at ``settings.home`` unless it exists; return the recovery code when created.

    The simulated reader serves the same synthetic people as the queue (same seed, county and year).
    """
    from station.app import create_station
    from sync.protocol import synthetic

    home = settings.home
    if (home / "station.db").exists():
        return None
    year = date.today().year
    app, recovery_code = create_station(settings)
    with app:
        station_config.save(
            station_config.StationConfig(
                station_id=DEMO_STATION,
                county_code6=DEMO_COUNTY,
                entry_year=year,
                reader=(
                    f"sim:seed={DEMO_SEED},count={students},county={DEMO_COUNTY},"
                    f"birth_year={year - 16},cycle={card_cycle_seconds:g}"
                ),
                camera="sim",
            ),
            home,
        )
        rows = synthetic.preregistrations(students, DEMO_COUNTY, seed=DEMO_SEED, entry_year=year)
        app.load_queue(rows, feed="demo")
    return recovery_code


def run(args, ctx) -> int:  # type: ignore[no-untyped-def]
    home = demo_home(ctx.settings)
    ctx = ctx.with_home(home)
    recovery_code = setup_demo_station(ctx.settings, args.students)
    ctx = ctx.reload()  # the demo's settings, now saved
    if recovery_code is not None:
        print(Text("已创建演示采集站：{home}", "Demo station created in {home}").format(home=home))
        print(
            Text(
                "恢复码（仅显示一次，演示用）：{code}", "Recovery code (shown once; demo only): {code}"
            ).format(code=recovery_code)
        )
    with ctx.open_station() as app:
        students = app.database.queue.list()
        by_class = Counter((s.school_name, s.class_no) for s in students)
        by_status = Counter(s.status for s in students)
        if args.json:
            print_json(
                {
                    "home": str(home),
                    "county": DEMO_COUNTY,
                    "students": len(students),
                    "by_status": dict(by_status),
                    "classes": [
                        {"school": k[0], "class": k[1], "students": n} for k, n in sorted(by_class.items())
                    ],
                }
            )
        else:
            _print_queue(app, students, by_class, by_status)
    if args.no_gui or not _has_screen():
        if not args.no_gui:
            print(
                Text(
                    "没有图形界面（DISPLAY 未设置），只列出名单。", "No screen (DISPLAY unset): listing only."
                )
            )
        return 0
    from station.ui.desk_app import run_desk

    # The demo runs as a demo officer without a log-in; `station gui` asks for one.
    return run_desk(ctx, operator="demo", seconds=args.seconds, screenshot=args.screenshot)


def _print_queue(app, students, by_class, by_status) -> None:
    from station.domain import rules
    from station.domain.students import STATUS_NAMES

    print(Text("土默特左旗 演示采集站 {s}", "Tumed Left Banner demo station {s}").format(s=DEMO_STATION))
    print(rules.deadline_notice(rules.today_in_china(), app.config.entry_year))
    print(Text("名单共 {n} 人：", "{n} students in the queue:").format(n=len(students)))
    for status, count in sorted(by_status.items()):
        print(f"  {STATUS_NAMES.get(status, status)}: {count}")
    schools: dict[str, list[str]] = {}
    for (school, class_no), count in sorted(by_class.items()):
        schools.setdefault(school, []).append(
            str(Text("{c} 班 {n} 人", "class {c}: {n}").format(c=class_no, n=count))
        )
    for school, classes in schools.items():
        print(f"  {school}: {' · '.join(classes)}")


def _has_screen() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.name == "nt")
