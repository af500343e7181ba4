"""A change of the station's settings by the county administrator: validated, versioned, audited.

``change_settings`` validates the whole new configuration through ``station.config`` (a
``ConfigError`` names each wrong field in the officer's words), raises the revision by one, writes
``config.json`` atomically, records the changed fields with their old and new values in the audit
log (no personal data lives in the settings; a proxy's password is masked) and hands the new
configuration to the running station. It says which changes need the desk to be opened again;
the idle lock and the unsynced thresholds apply at once.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from station import config as station_config
from station.admin.common import require_admin
from station.config import StationConfig
from station.errors import OfficerError
from station.i18n import Text

# What the settings screen edits; station identity comes from the enrollment file only.
EDITABLE = (
    "camera",
    "camera_resolution",
    "reader",
    "photo_profile",
    "backdrop",
    "registry_url",
    "registry_proxy",
    "language",
    "idle_lock_minutes",
    "retention_days",
    "unsynced_warn_hours",
    "unsynced_block_hours",
)
# Built once when the desk opens: the camera session, the card-reader thread, the window's words and
# the sync engine (registry address, proxy, and the retention its purge after each sync applies).
NEEDS_REOPEN = frozenset(
    (
        "camera", "camera_resolution", "reader", "photo_profile", "backdrop", "language",
        "registry_url", "registry_proxy", "retention_days",
    )
)  # fmt: skip
_USERINFO = re.compile(r"//[^@/]*@")


class SettingsNotSaved(OfficerError):
    code = "settings_not_saved"


@dataclass(frozen=True)
class SettingsChange:
    config: StationConfig
    changed: tuple[str, ...]

    @property
    def needs_reopen(self) -> tuple[str, ...]:
        return tuple(name for name in self.changed if name in NEEDS_REOPEN)


def _shown(name: str, value: object) -> object:
    return _USERINFO.sub("//***@", value) if name == "registry_proxy" and isinstance(value, str) else value


def change_settings(app, values: dict[str, object], *, acting: str) -> SettingsChange:  # type: ignore[no-untyped-def]
    """Validate and save ``values`` (editable fields only) as the next revision; audited."""
    require_admin(app, acting)
    unknown = set(values) - set(EDITABLE)
    if unknown:
        raise ValueError(f"not editable here: {sorted(unknown)}")
    current = station_config.load(app.home)  # the file, not this run's STATION_* overrides
    changed = tuple(name for name in EDITABLE if name in values and values[name] != getattr(current, name))
    if not changed:
        return SettingsChange(app.config, ())
    updated = station_config.update(
        current, **{name: values[name] for name in changed}, revision=current.revision + 1
    )
    # The validators may normalise a value (a trailing slash, spaces): compare what is saved.
    changed = tuple(name for name in changed if getattr(updated, name) != getattr(current, name))
    try:
        station_config.save(updated, app.home)
    except OSError:
        raise SettingsNotSaved(
            Text(
                "设置未能保存（磁盘已满或无写入权限）。",
                "The settings could not be saved (disk full or read-only).",
            ),
            fix=Text("请释放磁盘空间后重试。", "Free some disk space and try again."),
        ) from None
    app.database.audit.append(
        "settings_changed",
        operator=acting,
        subject="config",
        detail={
            "revision": updated.revision,
            "fields": list(changed),
            "changes": {
                name: [_shown(name, getattr(current, name)), _shown(name, getattr(updated, name))]
                for name in changed
            },
        },
    )
    app.reload_config()
    return SettingsChange(app.config, changed)


def editable_values(config: StationConfig) -> dict[str, object]:
    values = asdict(config)
    return {name: values[name] for name in EDITABLE}
