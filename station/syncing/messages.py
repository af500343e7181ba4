"""What sync outcomes mean to an officer: one sentence per error code and per rejection reason.

The sync engine (``sync.client``) speaks in codes; the station turns them into plain language here,
for the command line and the desk alike. An unknown code still reads as a sentence, with the code
only in the small print.
"""

from __future__ import annotations

from station.i18n import Text

SYNC_MESSAGES = {
    "NOT_ENROLLED": Text(
        "本站尚未注册到登记中心，请先运行 station enroll。",
        "This station is not enrolled: run `station enroll FILE` first.",
    ),
    "TLS_INTERCEPTED_OR_WRONG_CA": Text(
        "登记中心证书不是由登记中心的 CA 签发：可能有 HTTPS 检查代理或连错了服务器。请网络管理员为登记中心地址设置免检。",
        "The registry's certificate is not from the registry's CA: a TLS-inspecting proxy or the wrong server. "
        "Ask the network administrator for an inspection bypass for the registry host.",
    ),
    "TLS_HOSTNAME_MISMATCH": Text(
        "登记中心证书的主机名不符。", "The registry certificate names another host."
    ),
    "TLS_SERVER_CERT_EXPIRED": Text("登记中心证书已过期。", "The registry's certificate has expired."),
    "TLS_CLIENT_CERT_REJECTED": Text(
        "登记中心拒绝了本站证书（过期或被吊销？），请联系旗县管理员重新注册。",
        "The registry refused this station's certificate (expired or revoked?): ask for a new enrollment.",
    ),
    "TLS_CLIENT_CERT_EXPIRED": Text(
        "本站证书已过期，请联系旗县管理员重新注册。",
        "This station's certificate has expired: ask for a new enrollment.",
    ),
    "TLS_CLIENT_CERT_WRONG_CA": Text(
        "本站证书不是登记中心签发的，请重新注册。",
        "This station's certificate is not from the registry's CA: enroll again.",
    ),
    "PROXY_AUTH_REQUIRED": Text(
        "代理服务器需要认证（407），请检查代理设置。",
        "The proxy requires authentication (407): check the proxy setting.",
    ),
    "BAD_CREDENTIALS": Text(
        "本站保存的证书或私钥无法使用，请重新注册。",
        "The stored certificate or key cannot be used: enroll again.",
    ),
    "CERT_REVOKED": Text(
        "本站证书已被吊销，已停止同步。请联系盟市招生考试机构重新办理采集站注册；已采集的记录仍安全保存在本机。",
        "This station's certificate has been revoked and syncing has stopped. Contact the league "
        "admissions office to enrol the station again; the records captured here are kept safe.",
    ),
    "CERT_REFUSED": Text(
        "登记中心拒绝了本站证书，可能已被吊销，已暂停同步（每小时自动重试一次）。请联系盟市招生考试机构核实；"
        "已采集的记录仍安全保存在本机。",
        "The registry refuses this station's certificate, most likely revoked; syncing is paused (it tries "
        "again every hour). Contact the league admissions office; the records captured here are kept safe.",
    ),
    "STATION_REBOUND": Text(
        "登记中心拒绝了本站：本站编号已登记在其他旗县。请联系盟市招生考试机构。",
        "The registry refused this station: its station id is registered to another county. "
        "Contact the league admissions office.",
    ),
}

REJECTION_REASONS = {
    "NOT_APPROVED": Text("不在本县已审核名单中", "not approved in this county"),
    "WITHDRAWN": Text("已撤销/转出/休学", "withdrawn, transferred or suspended"),
    "CAPTURED_AT_ZHONGKAO": Text("中考时已采集", "captured at 中考"),
    "ID_MISMATCH": Text("证件信息与预注册不符", "chip data differs from the pre-registration"),
    "ALREADY_REGISTERED": Text("本年度已在其他学校注册", "already registered this season"),
    "DEADLINE_PASSED": Text("超过注册截止时间", "past the registration deadline"),
    "SERIALS_EXHAUSTED": Text("本县考籍号已用完", "the county's serials are used up"),
    "CHIP_MALFORMED": Text("证件芯片数据无效", "the card's chip data is not valid"),
    "CHIP_PARSED_MISMATCH": Text("证件解析结果与芯片数据不符", "the parsed card data differ from the chip"),
    "CARD_TYPE_REFUSED": Text("不受理此类证件", "this card type is not accepted"),
    "CARD_NOT_VALID": Text("采集当日证件不在有效期内", "the card was not valid on the capture day"),
    "PHOTO_NOT_JPEG": Text("照片不是有效的 JPEG 文件", "the photo is not a valid JPEG"),
    "PHOTO_MISMATCH": Text("照片尺寸与记录不符", "the photo's size differs from the record"),
    "PHOTO_PROFILE": Text("照片不符合规格", "the photo does not fit the photo specification"),
    "PHOTO_REUSED": Text("此照片已用于其他学生", "this photo is already used for another student"),
    "CAPTURE_TIME_IMPLAUSIBLE": Text(
        "采集时间不合理，请检查本机时钟", "implausible capture time: check the clock"
    ),
    "MANUAL_REFUSED": Text(
        "盟市审核未通过（无芯片数据的采集）", "refused by the league review (no chip data)"
    ),
}

# Why a record was set aside here and never sent (docs: station hardening; the outbox's last_error).
SET_ASIDE_REASONS = {
    "LOCAL_RECORD_DAMAGED": Text(
        "记录数据已损坏（数据页校验失败），已隔离，不会上传；请旗县管理员运行 station doctor 并从备份恢复",
        "the record's data is damaged (its pages fail their checks): set aside, not sent; the county "
        "administrator runs `station doctor` and restores the last backup",
    ),
    "LOCAL_HASH_MISMATCH": Text(
        "记录内容与保存时的校验值不符，已隔离，不会上传；请联系技术支持",
        "the record no longer matches the hash fixed at capture: set aside, not sent; call IT support",
    ),
}

_UNKNOWN = Text(
    "同步未完成，记录安全保存在本机，稍后会自动重试；如反复出现，请联系技术支持。",
    "Sync did not finish; the records are safe here and will be retried. If it keeps happening, "
    "call IT support.",
)


def describe(code: str | None, detail: str | None = None) -> Text:
    """The sentence for a sync error ``code`` (the code itself follows in small print when unknown)."""
    if code in SYNC_MESSAGES:
        return SYNC_MESSAGES[code]
    suffix = f"（{code}）" if code else ""
    return Text(f"{_UNKNOWN.zh}{suffix}", f"{_UNKNOWN.en}{f' ({code})' if code else ''}")


def rejection_reason(code: str | None) -> Text:
    if code in REJECTION_REASONS:
        return REJECTION_REASONS[code]
    return Text(f"登记中心退回（{code}）", f"returned by the registry ({code})")


_FIELD_NAMES = {
    "name": Text("姓名", "name"),
    "sex": Text("性别", "sex"),
    "birth_date": Text("出生日期", "birth date"),
    "nation": Text("民族", "ethnic group"),
    "national_id": Text("身份证号", "ID number"),
    "id_number": Text("身份证号", "ID number"),
}

_WHAT_TO_DO = {
    "NOT_APPROVED": Text(
        "请学生联系班主任确认预注册已审核。", "The student checks the approval with the class teacher."
    ),
    "WITHDRAWN": Text("无需处理；如有疑问请联系学校。", "Nothing to do; the school can explain."),
    "CAPTURED_AT_ZHONGKAO": Text("无需再采集。", "No capture needed."),
    "ID_MISMATCH": Text(
        "请学生通过班主任更正预注册信息，审核后重新采集。",
        "The student has the pre-registration corrected, then is captured again.",
    ),
    "ALREADY_REGISTERED": Text(
        "请与该学校核实；确属重复注册的无需处理。",
        "Check with that school; a true duplicate needs nothing more.",
    ),
    "DEADLINE_PASSED": Text("请联系旗县招生考试机构。", "Contact the county examinations office."),
    "SERIALS_EXHAUSTED": Text("请联系盟市招生考试机构。", "Contact the league examinations office."),
}


def rejection_sentence(result: dict | None) -> Text:
    """A returned record as the officer reads it: the reason, its details and what to do.

    ``result`` is the registry's per-record result as the outbox keeps it: for ``ID_MISMATCH`` the
    differing ``fields``, for ``ALREADY_REGISTERED`` the ``holder_school_name`` / ``_code``.
    """
    result = result or {}
    code = result.get("code")
    reason = rejection_reason(code)
    zh, en = reason.zh, reason.en
    if code == "ID_MISMATCH" and result.get("fields"):
        names = [_FIELD_NAMES.get(str(f), Text(str(f), str(f))) for f in result["fields"]]
        zh += "（" + "、".join(n.zh for n in names) + "）"
        en += " (" + ", ".join(n.en for n in names) + ")"
    if code == "ALREADY_REGISTERED" and (
        result.get("holder_school_name") or result.get("holder_school_code")
    ):
        school = result.get("holder_school_name") or result.get("holder_school_code")
        zh, en = f"已在{school}注册", f"registered at {school}"
    todo = _WHAT_TO_DO.get(code or "")
    if todo is not None:
        zh, en = f"{zh}：{todo.zh}", f"{en}: {todo.en}"
    return Text(zh, en)
