"""Station settings: one validated model for everything the station is told, and the one reader of
``STATION_*`` environment variables.

Two sources, one owner:

* ``config.json`` in the station home holds what the county sets (``StationConfig``): which county
  and station this is, the devices, the photo profile, the registry, retention and idle-lock times,
  the language and the log level. Plain JSON with no personal data and no secrets (the registry
  credentials go into the encrypted database). A missing file gives the defaults; a damaged or
  invalid one is a ``ConfigError`` naming the file and the field, never a silent reset. The file is
  versioned (``version``) so a later release can migrate it.
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
from collections.abc import Mapping
from dataclasses import asdict, fields, replace
from datetime import date
from pathlib import Path

import platformdirs
from pydantic import ValidationError, field_validator
from pydantic.dataclasses import dataclass

from station.errors import OfficerError
from station.i18n import Text

CONFIG_FILE = "config.json"
CONFIG_VERSION = 1
APP_NAME = "capture-station"
LANGUAGES = ("zh", "en")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class ConfigError(OfficerError):
    code = "config_invalid"


@dataclass(frozen=True)
class StationConfig:
    """What a county sets for its station (``config.json``)."""

    station_id: str = ""
    county_code6: str = ""
    entry_year: int = date.today().year
    language: str = "zh"
    # An idcard reader SPEC: auto, serial:/dev/ttyUSB0, pcsc:NAME, usb:VID:PID, sdk:PATH, sim[:options].
    reader: str = "auto"
    # A frame source: camera:INDEX|NAME, file:PATH, folder:PATH, url:URL or sim.
    camera: str = "camera:0"
    photo_profile: str = "moe-480"
    registry_url: str = ""
    registry_proxy: str = ""  # explicit HTTPS proxy for registry traffic (http://host:port); "" = direct
    retention_days: int = 30
    idle_lock_minutes: int = 5
    log_level: str = "INFO"
    version: int = CONFIG_VERSION

    @property
    def enrolled(self) -> bool:
        return bool(self.station_id and self.county_code6)

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise ValueError(f"language must be one of {', '.join(LANGUAGES)}")
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        if value.upper() not in LOG_LEVELS:
            raise ValueError(f"log level must be one of {', '.join(LOG_LEVELS)}")
        return value.upper()

    @field_validator("county_code6")
    @classmethod
    def _county(cls, value: str) -> str:
        if value and not (len(value) == 6 and value.isdigit()):
            raise ValueError("a county code has six digits")
        return value

    @field_validator("registry_url")
    @classmethod
    def _registry_url(cls, value: str) -> str:
        if value and not value.startswith("https://"):
            raise ValueError("the registry URL must start with https://")
        return value.rstrip("/")

    @field_validator("idle_lock_minutes")
    @classmethod
    def _positive(cls, value: int) -> int:
        if value < 1:
            raise ValueError("must be at least 1")
        return value

    @field_validator("retention_days")
    @classmethod
    def _not_negative(cls, value: int) -> int:
        if value < 0:
            raise ValueError("must not be negative")
        return value

    @field_validator("entry_year")
    @classmethod
    def _year(cls, value: int) -> int:
        if not 2000 <= value <= 2099:
            raise ValueError("the entry year must lie between 2000 and 2099")
        return value


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
        raise ConfigError(_invalid("environment", error)) from None


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
                fix=Text("请在设置中重新保存，或从备份恢复该文件。", "Save the settings again or restore the file."),
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
        raise ConfigError(_invalid(str(path), error)) from None


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
        raise ConfigError(_invalid("settings", error)) from None


def load_settings(environ: Mapping[str, str] | None = None, *, home: Path | None = None) -> Settings:
    """Everything the station is told, from the environment (``os.environ`` by default) and the home."""
    source = os.environ if environ is None else environ
    runtime = runtime_from(source, home=home)
    return Settings(runtime, load(runtime.home or default_home(), source))


def _invalid(where: str, error: ValidationError) -> Text:
    problems = "; ".join(
        f"{'.'.join(str(p) for p in item['loc']) or 'value'}: {item['msg']}" for item in error.errors()
    )
    return Text(f"设置无效（{where}）：{problems}", f"Invalid settings ({where}): {problems}")
