"""The desk's services, built over one opened station: background operations, camera, card reader,
the desk controller and background sync, connected to each other (not yet to any window).

The parts themselves come from the composition root (``StationApp``: the reader and camera
factories, the chip-photo decoder, the workflow, the sync engine); this module only wraps them for Qt.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from station.app import StationApp
from station.errors import OfficerError
from station.i18n import Text
from station.services.camera_feed import CameraFeed
from station.services.card_feed import CardFeed
from station.services.desk_controller import DeskController
from station.services.sync_runner import SyncRunner
from station.services.tasks import BackgroundOps, Lane

log = logging.getLogger("station.app")


@dataclass
class DeskServices:
    ops: BackgroundOps
    controller: DeskController
    camera: CameraFeed
    cards: CardFeed
    sync: SyncRunner
    notices: list[Text] = field(default_factory=list)  # set-up problems to show once the window is up

    def start(self) -> None:
        self.cards.event.connect(self.controller.on_card_event)
        self.camera.start()
        self.cards.start()
        self.sync.start()

    def stop(self) -> None:
        """Stop every device and worker; returns once the store lane has finished its writes."""
        self.sync.stop()
        self.cards.stop()
        self.camera.stop()
        self.ops.shutdown(wait_for=(Lane.STORE, Lane.WORK))


def build_services(
    app: StationApp,
    operator: str,
    *,
    sync_interval_s: float = 60.0,
    sync_probe_s: float = 15.0,
    on_unexpected: Callable[[BaseException], None] | None = None,
) -> DeskServices:
    ops = BackgroundOps(on_unexpected)
    notices: list[Text] = []
    try:
        decoder = app.chip_photo_decoder()
    except OfficerError as error:  # a broken vendor library must not keep the desk from opening
        log.warning("chip photo decoder unavailable: %s", error.code)
        notices.append(error.sentence())
        decoder = None
    camera = CameraFeed(app.capture_session, ops)
    controller = DeskController(app, operator, ops, camera=camera, chip_decoder=decoder)
    cards = CardFeed(app.card_events())
    runner = SyncRunner(app, ops, interval_s=sync_interval_s, probe_s=sync_probe_s)
    controller.record_saved.connect(runner.request)
    return DeskServices(ops, controller, camera, cards, runner, notices)
