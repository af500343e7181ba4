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
}

REJECTION_REASONS = {
    "NOT_APPROVED": Text("不在本县已审核名单中", "not approved in this county"),
    "WITHDRAWN": Text("已撤销/转出/休学", "withdrawn, transferred or suspended"),
    "CAPTURED_AT_ZHONGKAO": Text("中考时已采集", "captured at 中考"),
    "ID_MISMATCH": Text("证件信息与预注册不符", "chip data differs from the pre-registration"),
    "ALREADY_REGISTERED": Text("本年度已在其他学校注册", "already registered this season"),
    "DEADLINE_PASSED": Text("超过注册截止时间", "past the registration deadline"),
    "SERIALS_EXHAUSTED": Text("本县考籍号已用完", "the county's serials are used up"),
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
