"""``station demo``: a demonstration station of 土默特左旗 (150121) with its own registry, then the desk.

On first use it sets up, in the demo directory, an encrypted station database enrolled as demo
station DEMO-01 with the simulated card reader and camera, and an embedded reference registry
(``demo_registry``: throwaway PKI, SQLite, seeded with the county's synthetic students). Each run
serves that registry on 127.0.0.1, pulls the queue from it, prints the queue by school and class,
and opens the desk:

* with a screen: the desk window; F8 lets the next synthetic student sit down with their card
  (``--autoplay``: the demo plays the officer on a cycle);
* ``--headless`` (also the default without a screen): the walkthrough offscreen -- several captures,
  a refused card, a sync, the registration numbers printed -- with ``--screenshots DIR`` a PNG of
  each main state. ``--screenshots DIR`` with a screen plays the same walkthrough in the window.
  Exit 0 when the walkthrough completed, 1 when it did not;
* ``--no-gui``: only set up, sync and list.

Nothing here is real personal data; nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from pathlib import Path

import platformdirs

from station import config as station_config
from station.commands.output import print_json
from station.domain import rules
from station.domain.officers import OfficerLogin
from station.i18n import Text
from sync.protocol.season import open_entry_year

DEMO_COUNTY = "150121"
DEMO_STATION = "DEMO-01"
DEMO_SEED = 2026
HEADLESS_CAPTURES = 3
# The demo station's county administrator. Its password is in the code on purpose: a demo station
# holds synthetic people only, and where there is no OS keyring its key is wrapped by this password.
DEMO_OFFICER = OfficerLogin("demo", "demo-station")


def register(subparsers) -> None:  # type: ignore[no-untyped-def]
    parser = subparsers.add_parser("demo", help="run a demonstration station / 演示")
    parser.add_argument("--students", type=int, default=60, help="size of the synthetic county (first run)")
    parser.add_argument("--no-gui", action="store_true", help="only set up, sync and list the queue")
    parser.add_argument("--json", action="store_true", help="print the queue summary as JSON")
    parser.add_argument("--autoplay", action="store_true", help="the demo plays the officer on a cycle")
    parser.add_argument("--headless", action="store_true", help="run the walkthrough offscreen")
    parser.add_argument(
        "--screenshots",
        type=Path,
        help="play the walkthrough to its end, saving PNGs of the main states here",
    )
    from station.commands.gui import add_gui_options

    add_gui_options(parser)
    parser.set_defaults(handler=run)


def demo_home(settings) -> Path:  # type: ignore[no-untyped-def]
    """The station home the settings name (STATION_HOME), else a demo directory of its own."""
    given = settings.runtime.home
    return Path(given) if given else Path(platformdirs.user_data_dir("capture-station-demo", appauthor=False))


def _reader_spec(students: int, season: int, cycle: float) -> str:
    return (
        f"sim:seed={DEMO_SEED},count={students},county={DEMO_COUNTY},birth_year={season - 16},cycle={cycle:g}"
    )


def setup_demo_station(
    settings, students: int, *, card_cycle_seconds: float = 8.0, registry=None
) -> str | None:  # type: ignore[no-untyped-def]
    """Create the demo station at ``settings.home`` unless it exists; return the recovery code when created.

    With ``registry`` (a ``DemoRegistry``) the station is enrolled with it and pulls its queue from
    it; without, the synthetic queue is loaded directly (the tests' quick station). The simulated
    reader serves the same synthetic people as the queue (same seed, county and birth year).
    """
    from station.app import create_station
    from sync.protocol import synthetic

    home = settings.home
    if (home / "station.db").exists():
        if registry is not None:
            _ensure_enrolled(settings, registry)
        return None
    season = registry.season if registry is not None else open_entry_year(rules.today_in_china())
    app, recovery_code = create_station(settings, DEMO_OFFICER)
    with app:
        station_config.save(
            station_config.StationConfig(
                station_id=DEMO_STATION,
                county_code6=DEMO_COUNTY,
                entry_year=season,
                reader=_reader_spec(students, season, 0 if registry is not None else card_cycle_seconds),
                camera="sim",
            ),
            home,
        )
        if registry is not None:
            from station.syncing.credentials import save_credentials

            save_credentials(app.database, registry.credentials())
        else:
            rows = synthetic.preregistrations(students, DEMO_COUNTY, seed=DEMO_SEED, entry_year=season)
            app.load_queue(rows, feed="demo")
    return recovery_code


def _ensure_enrolled(settings, registry) -> None:  # type: ignore[no-untyped-def]
    """A demo station set up before it had a registry gets the registry's credentials."""
    from station.app import StationApp, needs_officer
    from station.syncing.credentials import load_credentials, save_credentials

    with StationApp.open(settings, DEMO_OFFICER if needs_officer(settings) else None) as app:
        if load_credentials(app.database) is None:
            save_credentials(app.database, registry.credentials())


def run(args, ctx) -> int:  # type: ignore[no-untyped-def]
    from station.commands.demo_registry import DemoRegistry

    home = demo_home(ctx.settings)
    ctx = ctx.with_home(home)
    existing = station_config.load(home) if (home / station_config.CONFIG_FILE).exists() else None
    enrolled = existing is not None and existing.enrolled
    season = existing.entry_year if enrolled else open_entry_year(rules.today_in_china())
    students = args.students
    registry = DemoRegistry.prepare(
        home, season=season, county=DEMO_COUNTY, station_id=DEMO_STATION, students=students, seed=DEMO_SEED
    )
    recovery_code = setup_demo_station(ctx.settings, students, registry=registry)
    url = registry.start()
    try:
        station_config.save(station_config.update(station_config.load(home), registry_url=url), home)
        ctx = ctx.reload()  # the demo's settings, now saved with this run's registry address
        from station.app import needs_officer

        if needs_officer(ctx.settings):  # no OS keyring: the key is wrapped by the demo officer's password
            ctx.officer = DEMO_OFFICER
        if recovery_code is not None:
            print(Text("已创建演示采集站：{home}", "Demo station created in {home}").format(home=home))
            print(
                Text(
                    "恢复码（仅显示一次，演示用）：{code}", "Recovery code (shown once; demo only): {code}"
                ).format(code=recovery_code)
            )
        code = _pull_and_list(args, ctx, home)
        if code != 0 or args.no_gui:
            return code
        headless = args.headless or not _has_screen()
        if not args.headless and headless:
            print(Text("没有图形界面：以无界面方式演示。", "No screen: running the walkthrough offscreen."))
        return _open_desk(args, ctx, headless)
    finally:
        registry.stop()


def _pull_and_list(args, ctx, home: Path) -> int:  # type: ignore[no-untyped-def]
    with ctx.open_station() as app:
        report = app.sync_engine().run_once(push=False)
        if not report.ok:
            from station.syncing.messages import describe

            sys.stderr.write(f"{describe(report.error_code)}\n")
            return 1
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
    return 0


def _open_desk(args, ctx, headless: bool) -> int:  # type: ignore[no-untyped-def]
    from station.commands.demo_walk import DemoHand, Outcome, Walkthrough, summary_lines
    from station.ui.desk_app import run_desk

    finished: list[Outcome] = []
    walkthrough = headless or args.screenshots is not None  # played to its goal, then the desk closes

    def start(window, services) -> None:  # type: ignore[no-untyped-def]
        from PySide6.QtGui import QKeySequence, QShortcut

        hand = DemoHand(services)
        window.demo_hand = hand
        QShortcut(QKeySequence("F8"), window, activated=hand.next_student)
        # In the status bar, not the notice bar: the administration uses that for its own warnings.
        window.status.showMessage(
            str(
                Text(
                    "演示模式：F8 请下一位学生带身份证就座；F1 查看全部按键。数据均为虚构。",
                    "Demo: F8 seats the next student with their card; F1 lists the keys. All people are synthetic.",
                )
            )
        )
        if walkthrough or args.autoplay:
            walk = Walkthrough(
                window,
                services,
                captures_goal=HEADLESS_CAPTURES if walkthrough else None,
                screenshots=args.screenshots,
                pace=0.5 if walkthrough else 1.0,
                on_done=finished.append,
            )
            window.demo_walk = walk
            walk.start()

    code = run_desk(
        ctx,
        operator="demo",
        seconds=None if walkthrough else args.seconds,
        screenshot=args.screenshot,
        after_start=start,
        platform="offscreen" if headless else None,
        sync_interval_s=20.0,
    )
    if walkthrough:
        if not finished or not finished[0].ok:
            problem = finished[0].problem if finished else None
            sys.stderr.write(
                f"{Text('演示未能完成。', 'The demo walkthrough did not complete.')} {problem or ''}\n"
            )
            return 1
        for line in summary_lines(finished[0]):
            print(line)
    return code


def _print_queue(app, students, by_class, by_status) -> None:  # type: ignore[no-untyped-def]
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
