"""``station report progress | signoff | receipt | export``: the county administrator's reports.

    station report progress [--json]                                  today's and the season's figures
    station report signoff --school CODE --class N -o FILE.pdf        a class's sign-off sheet (PDF)
    station report receipt --student ID -o FILE.pdf                   a student's receipt (PDF)
    station report export -o FILE.csv                                 the figures per class as CSV

Every report is for a county administrator (``--operator NAME``, the password asked or read with
``--password-stdin``); the sign-off sheet, the receipt and the export are audited. The PDFs are drawn
with Qt's own PDF writer, straight from memory to FILE. Exit codes: 0 written, 2 bad input (no such
class or student, an unwritable file, no administrator).
"""

from __future__ import annotations

from pathlib import Path

from station.commands.output import fail, print_json
from station.commands.signin import add_signin_options, signed_in_admin
from station.i18n import Text


def register(subparsers) -> None:  # type: ignore[no-untyped-def]
    parser = subparsers.add_parser("report", help="进度、签字表、回执、导出 / reports")
    commands = parser.add_subparsers(dest="report_command", required=True)
    progress = commands.add_parser("progress", help="today's and the season's progress per school and class")
    progress.add_argument("--json", action="store_true")
    signoff = commands.add_parser("signoff", help="a class's sign-off sheet as PDF")
    signoff.add_argument("--school", required=True, help="the school's code")
    signoff.add_argument("--class", dest="class_no", required=True, help="the class number")
    signoff.add_argument("-o", "--output", type=Path, required=True, help="the PDF file to write")
    receipt = commands.add_parser("receipt", help="a student's receipt as PDF")
    receipt.add_argument("--student", required=True, help="the student's id in the queue")
    receipt.add_argument("-o", "--output", type=Path, required=True, help="the PDF file to write")
    export = commands.add_parser("export", help="the figures per school and class as CSV")
    export.add_argument("-o", "--output", type=Path, required=True, help="the CSV file to write")
    for command, handler in (
        (progress, _progress),
        (signoff, _signoff),
        (receipt, _receipt),
        (export, _export),
    ):
        add_signin_options(command)
        command.set_defaults(handler=handler)


def _reports(args, app):  # type: ignore[no-untyped-def]
    from station.admin.reports import Reports

    return Reports(app, signed_in_admin(args, app))


def _progress(args, ctx) -> int:  # type: ignore[no-untyped-def]
    from station.admin.reports import FIGURE_LABELS
    from station.domain.progress import FIGURE_NAMES

    with ctx.open_station() as app:
        progress = _reports(args, app).progress()
    if args.json:
        print_json(
            {
                "date": progress.day.isoformat(),
                "classes": [
                    {
                        "school_code": c.school_code,
                        "school_name": c.school_name,
                        "class_no": c.class_no,
                        "season": c.season.as_dict(),
                        "today": c.today.as_dict(),
                    }
                    for c in progress.classes
                ],
                "season": progress.season.as_dict(),
                "today": progress.today.as_dict(),
            }
        )
        return 0
    print(
        Text("{d} 进度（括号内为今日）", "Progress on {d} (today in brackets)").format(
            d=progress.day.isoformat()
        )
    )
    print(
        "\t".join(
            [str(Text("学校", "school")), str(Text("班级", "class"))]
            + [str(FIGURE_LABELS[n]) for n in FIGURE_NAMES]
        )
    )
    for row in [*progress.classes, None]:
        season = row.season if row else progress.season
        today = row.today if row else progress.today
        cells = [
            f"{getattr(season, n)}" + (f" (+{getattr(today, n)})" if n != "approved" else "")
            for n in FIGURE_NAMES
        ]
        label = [row.school_name, row.class_no] if row else [str(Text("合计", "total")), ""]
        print("\t".join(label + cells))
    return 0


def _find_class(app, school: str, class_no: str) -> str | None:  # type: ignore[no-untyped-def]
    """The queue's spelling of ``class_no`` in ``school`` ("3" finds "03")."""
    found = [c.class_no for c in app.database.reports.classes() if c.school_code == school]
    if class_no in found:
        return class_no
    if class_no.isdigit():
        return next((c for c in found if c.isdigit() and int(c) == int(class_no)), None)
    return None


def _signoff(args, ctx) -> int:  # type: ignore[no-untyped-def]
    from station.ui.documents.signoff import write_signoff_pdf

    with ctx.open_station() as app:
        reports = _reports(args, app)
        class_no = _find_class(app, args.school, args.class_no)
        if class_no is None:
            return fail(
                Text("名单中没有 {s} 学校 {c} 班。", "The queue has no class {c} of school {s}.").format(
                    s=args.school, c=args.class_no
                )
            )
        sheet = reports.signoff_sheet(args.school, class_no)
    write_signoff_pdf(sheet, args.output)
    print(
        Text(
            "已生成签字表：{f}（{n} 人，已注册 {r} 人）",
            "Sign-off sheet written: {f} ({n} students, {r} registered)",
        ).format(f=args.output, n=len(sheet.lines), r=sheet.registered)
    )
    return 0


def _receipt(args, ctx) -> int:  # type: ignore[no-untyped-def]
    from station.ui.documents.receipt import write_receipt_pdf

    with ctx.open_station() as app:
        receipt = _reports(args, app).receipt(args.student)
    write_receipt_pdf(receipt, args.output)
    print(Text("已生成回执：{f}", "Receipt written: {f}").format(f=args.output))
    return 0


def _export(args, ctx) -> int:  # type: ignore[no-untyped-def]
    with ctx.open_station() as app:
        rows = _reports(args, app).export_progress(args.output)
    print(
        Text("已导出 {n} 个班级的统计：{f}", "Exported the figures of {n} classes: {f}").format(
            n=rows, f=args.output
        )
    )
    return 0
