"""Station settings: which county and station this is, the entry year, devices, language.

Settings live in ``config.json`` in the station home (``station.store.paths.station_home``): plain
JSON with no personal data and no secrets (the registry credentials imported at enrollment go into
the encrypted database). A missing file gives the defaults; a damaged one is a clear error naming the
file, never a silent reset. ``STATION_*`` environment variables override single settings, which is how
the tests and a demo point a station somewhere without editing its file.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields, replace
from datetime import date
from pathlib import Path

from station.i18n import Text
from station.store import paths

CONFIG_FILE = "config.json"


class ConfigError(Exception):
    def __init__(self, message: Text) -> None:
        super().__init__(message.en)
        self.message = message


@dataclass(frozen=True)
class StationConfig:
    station_id: str = ""
    county_code6: str = ""
    entry_year: int = date.today().year
    language: str = "zh"
    reader: str = (
        "auto"  # an idcard reader SPEC: auto, serial:/dev/ttyUSB0, pcsc:NAME, usb:VID:PID, sdk:PATH, sim
    )
    camera: str = "camera:0"  # a frame source: camera:INDEX|NAME, file:PATH, folder:PATH, url:URL or sim
    photo_profile: str = "moe-480"
    registry_url: str = ""
    registry_proxy: str = ""  # explicit HTTPS proxy for registry traffic (http://host:port); "" = direct
    retention_days: int = 30
    idle_lock_minutes: int = 5

    @property
    def enrolled(self) -> bool:
        return bool(self.station_id and self.county_code6)


def config_path(home: Path | None = None) -> Path:
    return paths.station_home(home) / CONFIG_FILE


def load(home: Path | None = None) -> StationConfig:
    """The settings of the station at ``home`` (defaults when nothing was saved yet)."""
    path = config_path(home)
    values: dict = {}
    if path.exists():
        try:
            values = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise ConfigError(
                Text(f"配置文件 {path} 无法读取：{error}", f"Cannot read the settings file {path}: {error}")
            ) from error
    known = {f.name: f for f in fields(StationConfig)}
    config = StationConfig(**{k: v for k, v in values.items() if k in known})
    for name, spec in known.items():
        override = os.environ.get(f"STATION_{name.upper()}")
        if override is not None:
            config = replace(config, **{name: int(override) if spec.type in ("int", int) else override})
    return config


def save(config: StationConfig, home: Path | None = None) -> Path:
    """Write the settings atomically (a crash leaves the old file or the new one, never half)."""
    path = config_path(home)
    paths.ensure_home(path.parent)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(asdict(config), ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(temporary, path)
    return path
