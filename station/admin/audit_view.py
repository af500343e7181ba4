"""The audit log in words: what each entry says to the administrator, and whether the chain holds.

Entries carry ids and codes only (``station.store.audit``); here each action gets its name in the
officer's language and the details a label, so the viewer and ``station audit`` show sentences, not
internal names. Details without a label are left to ``--json``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from station.admin.common import ROLE_NAMES, local_time, require_admin
from station.config import FIELD_LABELS
from station.i18n import Text

ACTION_NAMES: dict[str, Text] = {
    "capture": Text("采集", "capture"),
    "view": Text("查看记录", "record viewed"),
    "export": Text("导出", "export"),
    "purge": Text("清除个人数据", "personal data purged"),
    "login": Text("登录", "log-in"),
    "login_failed": Text("登录失败", "failed log-in"),
    "lockout": Text("账号锁定", "account locked"),
    "logout": Text("退出", "log-out"),
    "operator_created": Text("新建账号", "account created"),
    "operator_disabled": Text("停用账号", "account disabled"),
    "operator_enabled": Text("启用账号", "account enabled"),
    "operator_unlocked": Text("解锁账号", "account unlocked"),
    "password_changed": Text("修改密码", "password changed"),
    "password_reset": Text("重置密码", "password reset"),
    "settings_changed": Text("修改设置", "settings changed"),
    "enroll": Text("导入登记文件", "enrolled"),
    "station_created": Text("设置采集站", "station set up"),
    "signoff": Text("打印签字表", "sign-off sheet"),
    "receipt": Text("打印回执", "receipt"),
    "manual_override": Text("管理员确认放行", "administrator override"),
    "key_recovered": Text("恢复密钥", "key recovered"),
    "migrate": Text("数据库升级", "database upgraded"),
    "sync.alert": Text("同步告警", "sync alert"),
}
# The actions the viewer offers as filters, in the order an administrator looks for them.
ACTION_GROUPS: dict[str, tuple[Text, tuple[str, ...]]] = {
    "records": (Text("采集与查看", "captures and views"), ("capture", "view", "purge")),
    "disclosures": (Text("导出与打印", "exports and printing"), ("export", "signoff", "receipt")),
    "accounts": (
        Text("账号与登录", "accounts and log-ins"),
        (
            "login",
            "login_failed",
            "lockout",
            "logout",
            "operator_created",
            "operator_disabled",
            "operator_enabled",
            "operator_unlocked",
            "password_changed",
            "password_reset",
        ),
    ),
    "station": (
        Text("设置与放行", "settings and overrides"),
        ("settings_changed", "manual_override", "enroll", "station_created", "key_recovered", "migrate"),
    ),
}
_DETAIL_LABELS: dict[str, Text] = {
    "student_id": Text("学生编号", "student"),
    "supersedes": Text("替代记录", "supersedes"),
    "record_id": Text("记录", "record"),
    "role": Text("角色", "role"),
    "attempt": Text("尝试次数", "attempt"),
    "until": Text("锁定至", "locked until"),
    "retention_days": Text("保留天数", "retention days"),
    "school": Text("学校代码", "school"),
    "class": Text("班级", "class"),
    "students": Text("人数", "students"),
    "rows": Text("行数", "rows"),
    "file": Text("文件", "file"),
    "fields": Text("更改项", "fields"),
    "revision": Text("修订号", "revision"),
    "hours": Text("已等待小时", "hours waiting"),
    "station_id": Text("站号", "station"),
    "county": Text("旗县", "county"),
    "kind": Text("类别", "kind"),
    "purged": Text("清除条数", "purged"),
}
_REASONS = {
    "unknown": Text("用户名不存在或已停用", "unknown or disabled user"),
    "locked": Text("账号已锁定", "account locked"),
}
_KINDS = {
    "progress": Text("进度统计", "progress figures"),
    "demo": Text("演示站", "demo station"),
    "enrollment": Text("登记文件", "enrollment file"),
    "accounts": Text("账号", "accounts"),
    "unsynced": Text("长时间未同步", "long unsynced"),
    "unreadable_card": Text("身份证无法读取", "unreadable card"),
}
CHAIN_PROBLEMS = {
    "altered": Text("第 {id} 条记录在写入后被改动过。", "entry {id} was changed after it was written."),
    "broken": Text(
        "第 {id} 条之前的记录被删除或改写。", "an entry before entry {id} was removed or rewritten."
    ),
    "truncated": Text("从第 {id} 条起的记录被删除。", "the entries from {id} on were removed."),
}


@dataclass(frozen=True)
class AuditLine:
    id: int
    at: str  # China Standard Time
    operator: str
    action: str
    action_name: Text
    subject: str
    detail: Text


def _value(key: str, value: Any) -> Text:
    if key == "role":
        return ROLE_NAMES.get(value, Text(str(value), str(value)))
    if key == "kind":
        return _KINDS.get(value, Text(str(value), str(value)))
    if key == "until":
        return Text(local_time(value), local_time(value))
    if key == "fields" and isinstance(value, list):
        labels = [FIELD_LABELS.get(name, Text(name, name)) for name in value]
        return Text("、".join(label.zh for label in labels), ", ".join(label.en for label in labels))
    shown = "—" if value is None else str(value)
    return Text(shown, shown)


def describe_detail(detail: dict[str, Any]) -> Text:
    """The entry's details with labels, in both languages; unlabelled keys are left out."""
    parts: list[Text] = []
    if detail.get("reason") in _REASONS:
        parts.append(_REASONS[detail["reason"]])
    for key, label in _DETAIL_LABELS.items():
        if key in detail and detail[key] not in (None, ""):
            value = _value(key, detail[key])
            parts.append(Text(f"{label.zh}：{value.zh}", f"{label.en}: {value.en}"))
    return Text("；".join(p.zh for p in parts), "; ".join(p.en for p in parts))


_SUBJECTS = {"progress": Text("进度统计", "progress figures"), "config": Text("设置", "settings")}


def describe_subject(subject: str | None) -> Text:
    """What an entry is about: a record or student id, an account, a class, the settings."""
    if not subject:
        return Text("", "")
    if subject.startswith("class:"):
        school, _, class_no = subject.removeprefix("class:").partition("/")
        return Text(f"{school} {class_no} 班", f"{school} class {class_no}")
    return _SUBJECTS.get(subject, Text(subject, subject))


def describe(entry) -> AuditLine:  # type: ignore[no-untyped-def]
    return AuditLine(
        entry.id,
        local_time(entry.at, seconds=True),
        entry.operator or "—",
        entry.action,
        ACTION_NAMES.get(entry.action, Text(entry.action, entry.action)),
        str(describe_subject(entry.subject)),
        describe_detail(entry.detail),
    )


def chain_verdict(check) -> Text:  # type: ignore[no-untyped-def]
    """One sentence on the chain check (``station.store.audit.ChainCheck``)."""
    if check.intact:
        return Text(
            "审计日志完整：{n} 条记录，逐条校验无误。",
            "The audit log is intact: {n} entries, each one checked.",
        ).format(n=check.entries)
    problem = CHAIN_PROBLEMS[check.problem].format(id=check.first_bad_id)
    return Text(
        f"审计日志已被篡改：{problem.zh}请保留本机现状，立即报告盟市管理员。",
        f"The audit log was tampered with: {problem.en} Keep the machine as it is and report it to the "
        "league administrator.",
    )


class AuditView:
    """The audit log for the county administrator ``acting``."""

    def __init__(self, app, acting: str) -> None:  # type: ignore[no-untyped-def]
        require_admin(app, acting)
        self._audit = app.database.audit

    def lines(
        self,
        *,
        actions: tuple[str, ...] | None = None,
        operator: str | None = None,
        since: str | None = None,
        before_id: int | None = None,
        limit: int = 500,
    ) -> list[AuditLine]:
        entries = self._audit.list(
            actions=actions, operator=operator or None, since=since, before_id=before_id, limit=limit
        )
        return [describe(entry) for entry in entries]

    def entries(self, **filters: Any) -> list[Any]:
        return self._audit.list(**filters)

    def check(self):  # type: ignore[no-untyped-def]
        return self._audit.check_chain()
