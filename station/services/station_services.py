"""Builds the desk's services from the station's settings: camera, card reader, controller, background sync."""

from __future__ import annotations

from station.app import StationApp
from station.services.camera_feed import CameraFeed
from station.services.card_feed import CardFeed
from station.services.desk_controller import DeskController
from station.services.sync_runner import SyncRunner


def build_services(
    app: StationApp, operator: str, *, sync_interval_s: float = 60.0
) -> tuple[DeskController, CameraFeed, CardFeed, SyncRunner]:
    from station.camera.session import CaptureSession
    from station.camera.sources import open_source
    from station.idcard.discovery import open_reader
    from station.idcard.events import CardEventStream

    config = app.config
    controller = DeskController(app, operator)
    camera = CameraFeed(
        lambda deliver: CaptureSession(
            open_source(config.camera), config.photo_profile, on_autocapture=deliver
        )
    )
    cards = CardFeed(CardEventStream(lambda: open_reader(config.reader)))
    runner = SyncRunner(app, interval_s=sync_interval_s)
    controller.record_saved.connect(runner.request)
    return controller, camera, cards, runner
