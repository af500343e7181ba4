"""Station settings: one validated model for everything the station is told, and the one reader of
``STATION_*`` environment variables.

Two sources, one owner:

* ``config.json`` in the station home holds what the county sets (``StationConfig``): which county
  and station this is, the devices, the photo profile, the registry, retention and idle-lock times,
  the language and the log level. Plain JSON with no personal data and no secrets (the registry
  credentials go into the encrypted database). A missing file gives the defaults; a damaged or
  invalid one is a ``ConfigError`` naming the file and the field in the officer's language (the
  settings screen shows it beside the field), never a silent reset. The file is versioned: ``version``
  is its format (a later release can migrate it) and ``revision`` counts the saved changes (each
  one is also in the audit log).
* The environment (``ENVIRONMENT`` below lists every variable the station reads; no other module
  reads ``os.environ``) gives the run its ``Runtime``: where the station home is, log level and
  language overrides, where data files live, reader discovery lists, the crash points of the fault
  tests and the sync timings that tests and training shorten. ``STATION_<FIELD>`` also overrides a
  single ``StationConfig`` field for one run (a portable install, a demo, a test).

``Settings`` is the two together, built once at start-up (``load_settings``) and passed as a value.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import asdict, field, fields, replace
from datetime import date
from pathlib import Path

import platformdirs
from pydantic import ValidationError, field_validator, model_validator
from pydantic.dataclasses import dataclass

from station.errors import OfficerError
from station.i18n import Text
from sync.protocol.season import open_entry_year

CONFIG_FILE = "config.json"
CONFIG_VERSION = 1
APP_NAME = "capture-station"
LANGUAGES = ("zh", "en")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class ConfigError(OfficerError):
    """Invalid settings; ``problems`` maps each wrong field to what is wrong with it."""

    code = "config_invalid"

    def __init__(self, message: Text, *, fix: Text | None = None, problems: dict[str, Text] | None = None):
        super().__init__(message, fix=fix)
        self.problems = problems or {}


_RESOLUTION = re.compile(r"^\d{3,4}x\d{3,4}$")
_READER_KINDS = ("auto", "sim", "serial", "pcsc", "usb", "sdk")
_CAMERA_KINDS = ("camera", "file", "folder", "url", "sim")


@dataclass(frozen=True)
class StationConfig:
    """What a county sets for its station (``config.json``)."""

    station_id: str = ""
    county_code6: str = ""
    entry_year: int = field(default_factory=lambda: open_entry_year(date.today()))
    language: str = "zh"
    # An idcard reader SPEC: auto, serial:/dev/ttyUSB0, pcsc:NAME, usb:VID:PID, sdk:PATH, sim[:options].
    reader: str = "auto"
    # A frame source: camera:INDEX|NAME, file:PATH, folder:PATH, url:URL or sim.
    camera: str = "camera:0"
    camera_resolution: str = ""  # WIDTHxHEIGHT asked of a local camera; "" = the camera's best up to 1080p
    photo_profile: str = "moe-480"
    backdrop: str = ""  # a backdrop colour the profile allows (white, light_blue...); "" = its default
    registry_url: str = ""
    registry_proxy: str = ""  # explicit HTTPS proxy for registry traffic (http://host:port); "" = direct
    retention_days: int = 30
    idle_lock_minutes: int = 5
    # Captures waiting for the registry longer than this warn on the desk, and past the second
    # threshold need a county administrator's acknowledgement before capturing on.
    unsynced_warn_hours: int = 24
    unsynced_block_hours: int = 72
    # Scheduled encrypted backups of the station database (taken by the sync loop and the desk).
    backup_every_hours: int = 24
    backup_keep: int = 7
    log_level: str = "INFO"
    version: int = CONFIG_VERSION
    revision: int = 0

    @property
    def enrolled(self) -> bool:
        return bool(self.station_id and self.county_code6)

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise ValueError("language")
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        if value.upper() not in LOG_LEVELS:
            raise ValueError("log_level")
        return value.upper()

    @field_validator("county_code6")
    @classmethod
    def _county(cls, value: str) -> str:
        if value and not (len(value) == 6 and value.isdigit()):
            raise ValueError("county")
        return value

    @field_validator("registry_url")
    @classmethod
    def _registry_url(cls, value: str) -> str:
        value = value.strip()
        if value and not (value.startswith("https://") and len(value) > len("https://")):
            raise ValueError("https")
        return value.rstrip("/")

    @field_validator("registry_proxy")
    @classmethod
    def _proxy(cls, value: str) -> str:
        value = value.strip()
        if value and not re.match(r"^https?://[^\s/]+:\d{1,5}/?$", value):
            raise ValueError("proxy")
        return value

    @field_validator("reader")
    @classmethod
    def _reader(cls, value: str) -> str:
        value = value.strip()
        kind, colon, rest = value.partition(":")
        if (
            kind not in _READER_KINDS
            or (kind not in ("auto", "sim") and not rest)
            or (kind == "auto" and colon)
        ):
            raise ValueError("reader")
        return value

    @field_validator("camera")
    @classmethod
    def _camera(cls, value: str) -> str:
        value = value.strip()
        kind, _, rest = value.partition(":")
        if kind not in _CAMERA_KINDS or (kind != "sim" and not rest):
            raise ValueError("camera")
        return value

    @field_validator("camera_resolution")
    @classmethod
    def _resolution(cls, value: str) -> str:
        value = value.strip().lower().replace("×", "x")
        if value and not _RESOLUTION.match(value):
            raise ValueError("resolution")
        return value

    @field_validator("photo_profile")
    @classmethod
    def _profile(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("required")
        return value.strip()

    @field_validator("idle_lock_minutes")
    @classmethod
    def _idle(cls, value: int) -> int:
        if not 1 <= value <= 240:
            raise ValueError("idle_range")
        return value

    @field_validator("retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        if not 0 <= value <= 3650:
            raise ValueError("retention_range")
        return value

    @field_validator("unsynced_warn_hours", "unsynced_block_hours")
    @classmethod
    def _hours(cls, value: int) -> int:
        if not 1 <= value <= 24 * 60:
            raise ValueError("hours_range")
        return value

    @field_validator("backup_every_hours", "backup_keep")
    @classmethod
    def _backups(cls, value: int) -> int:
        if not 1 <= value <= 24 * 60:
            raise ValueError("backup_range")
        return value

    @field_validator("entry_year")
    @classmethod
    def _year(cls, value: int) -> int:
        if not 2000 <= value <= 2099:
            raise ValueError("year")
        return value

    @model_validator(mode="after")
    def _thresholds_in_order(self) -> StationConfig:
        if self.unsynced_block_hours <= self.unsynced_warn_hours:
            raise ValueError("block_after_warn")
        return self


@dataclass(frozen=True)
class Runtime:
    """What this run of the program is told by its environment (never saved)."""

    home: Path | None = None  # STATION_HOME; None: the platform's default directory
    language: str | None = None
    log_level: str | None = None
    resources_dir: Path | None = None
    profiles_dir: Path | None = None
    yunet_model: Path | None = None
    registering_kinds: tuple[str, ...] | None = None
    idcard_sdk: tuple[str, ...] = ()
    idcard_serial_ports: tuple[str, ...] | None = None
    wlt_decoder: Path | None = None  # the vendor library that decodes the chip photo (WLT)
    crash_at: str | None = None
    no_crash_dialog: bool = False
    sync_backoff_s: float | None = None
    sync_retry_after_cap_s: float | None = None
    sync_max_wait_s: float | None = None
    sync_connect_timeout_s: float | None = None
    sync_deadline_s: float | None = None


# Every environment variable the station reads, and the Runtime field it sets.
ENVIRONMENT: dict[str, str] = {
    "STATION_HOME": "home",
    "STATION_LANG": "language",
    "STATION_LOG_LEVEL": "log_level",
    "STATION_RESOURCES": "resources_dir",
    "STATION_PROFILES_DIR": "profiles_dir",
    "STATION_YUNET_MODEL": "yunet_model",
    "STATION_REGISTERING_KINDS": "registering_kinds",  # comma-separated division kinds
    "STATION_IDCARD_SDK": "idcard_sdk",  # os.pathsep-separated vendor libraries to try
    "STATION_IDCARD_SERIAL_PORTS": "idcard_serial_ports",  # os.pathsep-separated; "" = none
    "STATION_WLT_DECODER": "wlt_decoder",  # vendor WLT library: the desk shows the chip photo
    "STATION_CRASH_AT": "crash_at",  # fault tests: die at a named point (sync.client.faultpoints)
    "STATION_NO_CRASH_DIALOG": "no_crash_dialog",  # smoke tests and CI: crash reports only
    "STATION_SYNC_BACKOFF_S": "sync_backoff_s",
    "STATION_SYNC_RETRY_AFTER_CAP_S": "sync_retry_after_cap_s",
    "STATION_SYNC_MAX_WAIT_S": "sync_max_wait_s",
    "STATION_SYNC_CONNECT_TIMEOUT_S": "sync_connect_timeout_s",
    "STATION_SYNC_DEADLINE_S": "sync_deadline_s",
}
_LISTS = {
    "registering_kinds": ",",
    "idcard_sdk": os.pathsep,
    "idcard_serial_ports": os.pathsep,
}
# STATION_<FIELD> overrides of config.json, one per StationConfig field (version excepted).
CONFIG_OVERRIDES: dict[str, str] = {
    f"STATION_{f.name.upper()}": f.name
    for f in fields(StationConfig)
    if f.name != "version" and f"STATION_{f.name.upper()}" not in ENVIRONMENT
}


@dataclass(frozen=True)
class Settings:
    """The station's configuration and this run's environment, validated, passed as one value."""

    runtime: Runtime
    station: StationConfig

    @property
    def home(self) -> Path:
        return self.runtime.home or default_home()

    @property
    def language(self) -> str:
        return self.runtime.language or self.station.language

    @property
    def log_level(self) -> str:
        return (self.runtime.log_level or self.station.log_level).upper()


def default_home() -> Path:
    """The platform's per-user data directory of the station (used when STATION_HOME is not set)."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def runtime_from(environ: Mapping[str, str], *, home: Path | None = None) -> Runtime:
    """This run's ``Runtime`` from ``environ`` (``home`` given as a value wins over STATION_HOME)."""
    values: dict[str, object] = {}
    for variable, name in ENVIRONMENT.items():
        raw = environ.get(variable)
        if raw is None:
            continue
        if name in _LISTS:
            values[name] = tuple(item for item in raw.split(_LISTS[name]) if item)
        elif name == "no_crash_dialog":
            values[name] = raw.lower() in ("1", "true", "yes")
        elif raw != "":
            values[name] = raw
    if home is not None:
        values["home"] = Path(home)
    try:
        return Runtime(**values)  # type: ignore[arg-type]
    except ValidationError as error:
        variables = {name: variable for variable, name in ENVIRONMENT.items()}
        wrong = ", ".join(
            variables.get(str(item["loc"][0]), str(item["loc"][0])) for item in error.errors() if item["loc"]
        )
        raise ConfigError(
            Text(f"环境变量的值无效：{wrong}", f"Invalid environment variables: {wrong}")
        ) from None


# What each field is called on the settings screen, and what each validator's complaint means.
FIELD_LABELS: dict[str, Text] = {
    "station_id": Text("站号", "station id"),
    "county_code6": Text("旗县代码", "county code"),
    "entry_year": Text("入学年度", "entry year"),
    "language": Text("界面语言", "language"),
    "reader": Text("读卡器", "card reader"),
    "camera": Text("摄像头", "camera"),
    "camera_resolution": Text("摄像头分辨率", "camera resolution"),
    "photo_profile": Text("照片规格", "photo profile"),
    "backdrop": Text("背景颜色", "backdrop colour"),
    "registry_url": Text("登记中心地址", "registry URL"),
    "registry_proxy": Text("代理服务器", "proxy"),
    "retention_days": Text("个人数据保留天数", "retention days"),
    "idle_lock_minutes": Text("无操作锁屏（分钟）", "idle lock (minutes)"),
    "unsynced_warn_hours": Text("未同步提醒（小时）", "unsynced warning (hours)"),
    "unsynced_block_hours": Text("未同步停止采集（小时）", "unsynced stop (hours)"),
    "backup_every_hours": Text("自动备份间隔（小时）", "backup every (hours)"),
    "backup_keep": Text("保留备份份数", "backups kept"),
    "log_level": Text("日志级别", "log level"),
    "version": Text("配置文件版本", "settings format"),
    "revision": Text("设置修订号", "settings revision"),
}
_PROBLEMS: dict[str, Text] = {
    "language": Text("只能是中文（zh）或英文（en）。", "must be zh or en."),
    "log_level": Text("只能是 DEBUG、INFO、WARNING 或 ERROR。", "must be DEBUG, INFO, WARNING or ERROR."),
    "county": Text("应为 6 位数字。", "must be six digits."),
    "https": Text("必须以 https:// 开头。", "must start with https://."),
    "proxy": Text(
        "格式应为 http://主机:端口，不用代理请留空。",
        "must look like http://host:port; leave empty for none.",
    ),
    "reader": Text(
        "应为 auto、sim，或 serial:/pcsc:/usb:/sdk: 加设备名。",
        "must be auto, sim, or serial:/pcsc:/usb:/sdk: with a device.",
    ),
    "camera": Text(
        "应为 camera:编号或名称、file:、folder:、url: 加路径，或 sim。",
        "must be camera:INDEX|NAME, file:, folder:, url: with a path, or sim.",
    ),
    "resolution": Text(
        "格式应为 宽x高，例如 1920x1080；留空为自动。", "must be WIDTHxHEIGHT, e.g. 1920x1080."
    ),
    "required": Text("不能为空。", "must not be empty."),
    "idle_range": Text("应在 1 到 240 分钟之间。", "must lie between 1 and 240 minutes."),
    "retention_range": Text("应在 0 到 3650 天之间。", "must lie between 0 and 3650 days."),
    "hours_range": Text("应在 1 到 1440 小时之间。", "must lie between 1 and 1440 hours."),
    "backup_range": Text("应在 1 到 1440 之间。", "must lie between 1 and 1440."),
    "year": Text("应在 2000 到 2099 之间。", "must lie between 2000 and 2099."),
    "block_after_warn": Text("必须大于未同步提醒的小时数。", "must be more than the warning hours."),
    "int": Text("应为整数。", "must be a whole number."),
    "type": Text("格式不对。", "has the wrong form."),
}
# Problems a model-wide check finds, and the field each belongs to.
_MODEL_PROBLEM_FIELDS = {"block_after_warn": "unsynced_block_hours"}


def config_path(home: Path) -> Path:
    return Path(home) / CONFIG_FILE


def load(home: Path, environ: Mapping[str, str] | None = None) -> StationConfig:
    """The settings saved at ``home`` (defaults when nothing was saved yet), with ``STATION_<FIELD>``
    overrides from ``environ`` applied."""
    path = config_path(home)
    values: dict = {}
    if path.exists():
        try:
            values = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, UnicodeDecodeError):
            raise ConfigError(
                Text(f"配置文件 {path} 无法读取或已损坏。", f"The settings file {path} cannot be read."),
                fix=Text(
                    "请在设置中重新保存，或从备份恢复该文件。", "Save the settings again or restore the file."
                ),
            ) from None
        if not isinstance(values, dict):
            raise ConfigError(Text(f"配置文件 {path} 格式不对。", f"The settings file {path} is malformed."))
    known = {f.name for f in fields(StationConfig)}
    values = {k: v for k, v in values.items() if k in known}
    for variable, name in CONFIG_OVERRIDES.items():
        if environ is not None and environ.get(variable) is not None:
            values[name] = environ[variable]
    try:
        return StationConfig(**values)
    except ValidationError as error:
        raise invalid(error, path) from None


def save(config: StationConfig, home: Path) -> Path:
    """Write the settings atomically (a crash leaves the old file or the new one, never half)."""
    path = config_path(home)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(asdict(config), ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(temporary, path)
    return path


def update(config: StationConfig, **changes: object) -> StationConfig:
    """A validated copy of ``config`` with ``changes`` (a ``ConfigError`` naming the field if invalid)."""
    try:
        return replace(config, **changes)
    except ValidationError as error:
        raise invalid(error) from None


def load_settings(environ: Mapping[str, str] | None = None, *, home: Path | None = None) -> Settings:
    """Everything the station is told, from the environment (``os.environ`` by default) and the home."""
    source = os.environ if environ is None else environ
    runtime = runtime_from(source, home=home)
    return Settings(runtime, load(runtime.home or default_home(), source))


def invalid(error: ValidationError, path: Path | None = None) -> ConfigError:
    """A ``ConfigError`` in the officer's words: each wrong field by its label, with what is wrong."""
    problems: dict[str, Text] = {}
    for item in error.errors():
        key = str(item.get("ctx", {}).get("error", "")) if item["type"] == "value_error" else ""
        name = str(item["loc"][0]) if item["loc"] else _MODEL_PROBLEM_FIELDS.get(key, "")
        if key in _PROBLEMS:
            problem = _PROBLEMS[key]
        elif item["type"].startswith("int_"):
            problem = _PROBLEMS["int"]
        else:
            problem = _PROBLEMS["type"]
        problems.setdefault(name, problem)
    lines = [(FIELD_LABELS.get(name, Text(name, name)), problem) for name, problem in problems.items()]
    zh = "；".join(f"{label.zh}{problem.zh.rstrip('。')}" for label, problem in lines) + "。"
    en = "; ".join(f"{label.en} {problem.en.rstrip('.')}" for label, problem in lines) + "."
    if path is None:
        message = Text(f"设置有误：{zh}", f"Invalid settings: {en}")
    else:
        message = Text(f"配置文件 {path} 中的设置有误：{zh}", f"Invalid settings in {path}: {en}")
    return ConfigError(
        message,
        fix=Text("请在设置中改正后保存。", "Correct them in the settings and save.")
        if path is None
        else None,
        problems=problems,
    )
