"""The enrollment file written by ``sync-registry enroll``: read it, check it, make this station its station.

``read_enrollment`` refuses anything but a version-1 enrollment file with a https registry, a current
county and a well-formed station id; ``check_credentials`` proves that the private key belongs to the
certificate (an in-memory TLS context is built from them) before anything is saved; ``enroll`` keeps
the CA, certificate and key among the store's sealed secrets, writes the registry URL, county,
station id and photo profile into ``config.json`` and audits the enrollment. A station that already
holds records of another station id is not re-enrolled under a new id (its records would no longer
match its certificate). The command line (``station enroll``) and the first-run wizard both use it.
On Windows the installer may have staged the county's file for the wizard (``staged_enrollment_file``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import platformdirs

from station import config as station_config
from station.config import StationConfig
from station.errors import OfficerError
from station.files import FileRefused, read_bounded
from station.i18n import Text
from station.syncing.credentials import save_credentials
from sync.client.errors import FatalSyncError
from sync.client.tlsmaterial import Credentials, client_context
from sync.protocol import codes
from sync.protocol.wire import STATION_ID_RE

FORMAT = "capture-station-enrollment"
MAX_FILE_BYTES = 256 * 1024  # certificates and a key: a few kilobytes; anything larger is not ours
_REQUIRED = ("registry_url", "county", "station_id", "ca_pem", "cert_pem", "key_pem")


# Where setup.exe copies ``/ENROLL=<file>`` or the ``enrollment.json`` beside it (build/windows/station.nsi):
# %ProgramData%\CaptureStation\enrollment. Other systems have no installer step: the wizard asks.
STAGED_ENROLLMENT_DIR: Path | None = (
    Path(platformdirs.site_data_dir("CaptureStation", appauthor=False)) / "enrollment"
    if sys.platform == "win32"
    else None
)


def staged_enrollment_file() -> Path | None:
    """The enrollment file the installer left for the first run, if there is one."""
    if STAGED_ENROLLMENT_DIR is None:
        return None
    path = STAGED_ENROLLMENT_DIR / "enrollment.json"
    return path if path.is_file() else None


class EnrollmentInvalid(OfficerError):
    def __init__(self, code: str, message: Text) -> None:
        super().__init__(message, code=code)


def read_enrollment(path: Path) -> dict:
    try:  # the size is checked before a byte is read, and no more than the limit is ever read
        data = read_bounded(path, MAX_FILE_BYTES, Text("注册文件", "enrollment file"))
    except FileRefused as refused:
        raise EnrollmentInvalid(refused.code, refused.message) from None
    try:
        raw = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError):
        raise EnrollmentInvalid(
            "unreadable",
            Text("无法读取注册文件（不是 JSON？）。", "Cannot read the enrollment file (not JSON?)."),
        ) from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT or raw.get("version") != 1:
        raise EnrollmentInvalid(
            "not_enrollment",
            Text("这不是采集站注册文件（第 1 版）。", "This is not a station enrollment file (version 1)."),
        )
    missing = [name for name in _REQUIRED if not isinstance(raw.get(name), str) or not raw[name]]
    if missing:
        raise EnrollmentInvalid(
            "fields",
            Text("注册文件缺少字段：{f}", "The enrollment file lacks fields: {f}").format(
                f=", ".join(missing)
            ),
        )
    if not raw["registry_url"].startswith("https://"):
        raise EnrollmentInvalid(
            "bad_url", Text("登记中心地址必须是 https://。", "The registry URL must be https://.")
        )
    if codes.county(raw["county"]) is None or not STATION_ID_RE.match(raw["station_id"]):
        raise EnrollmentInvalid(
            "bad_identity",
            Text("注册文件中的旗县代码或站号无效。", "The county code or station id is invalid."),
        )
    return raw


def check_credentials(raw: dict) -> Credentials:
    """The file's credentials, once the key is proven to belong to the certificate."""
    credentials = Credentials(raw["ca_pem"], raw["cert_pem"], raw["key_pem"])
    try:
        client_context(credentials)
    except FatalSyncError:
        raise EnrollmentInvalid(
            "bad_credentials",
            Text("证书与私钥不匹配或无法读取。", "The certificate and key do not match or cannot be read."),
        ) from None
    return credentials


def enroll(database, home: Path, config: StationConfig, raw: dict) -> StationConfig:  # type: ignore[no-untyped-def]
    """Make the station at ``home`` (its open ``database``) the station ``raw`` names; the saved config."""
    credentials = check_credentials(raw)
    if (
        config.station_id
        and config.station_id != raw["station_id"]
        and any(database.outbox.counts().values())
    ):
        raise EnrollmentInvalid(
            "other_station",
            Text(
                "本机已保存站号 {old} 的记录，不能改为 {new}。",
                "This machine holds records of station {old}; it cannot become {new}.",
            ).format(old=config.station_id, new=raw["station_id"]),
        )
    save_credentials(database, credentials)
    database.audit.append("enroll", detail={"station_id": raw["station_id"], "county": raw["county"]})
    enrolled = station_config.update(
        config,
        station_id=raw["station_id"],
        county_code6=raw["county"],
        registry_url=raw["registry_url"].rstrip("/"),
        photo_profile=raw.get("photo_profile") or config.photo_profile,
    )
    station_config.save(enrolled, home)
    return enrolled
