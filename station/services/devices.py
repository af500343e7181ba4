"""What the settings screen asks of the devices, without Qt: the photo profiles and the backdrops
each allows, the readers discovery finds, and one test read of a reader the administrator is
trying (with settings not saved yet). Runs on a worker lane: a reader may take seconds to answer."""

from __future__ import annotations

from dataclasses import dataclass

from station.app import StationApp, discovery_options
from station.config import StationConfig
from station.domain.identity import mask_id_number
from station.errors import OfficerError
from station.i18n import Text

BACKDROP_NAMES = {
    "white": Text("白色", "white"),
    "light_blue": Text("浅蓝色", "light blue"),
    "blue": Text("蓝色", "blue"),
    "red": Text("红色", "red"),
}


@dataclass(frozen=True)
class ProfileChoice:
    id: str
    title: Text
    backdrops: tuple[str, ...]
    default_backdrop: str


def profile_choices() -> list[ProfileChoice]:
    from station.camera.profiles import available_profiles, load_profile

    choices = []
    for name in available_profiles():
        try:
            profile = load_profile(name)
        except OfficerError:
            continue  # a damaged profile file is not offered; doctor and the camera report it
        choices.append(
            ProfileChoice(profile.id, profile.title, tuple(profile.backgrounds), profile.default_background)
        )
    return choices


def reader_choices(app: StationApp) -> list[str]:
    """Reader specs found on this machine (PC/SC, USB, serial, vendor libraries)."""
    from station.idcard.discovery import list_readers

    return [info.spec for info in list_readers(discovery_options(app.settings))]


def test_read(app: StationApp, config: StationConfig, timeout_s: float = 8.0) -> Text:
    """Open the reader ``config`` names and read one card; what happened, in a sentence.

    Only the last four characters of the card's number are shown (the administrator is checking the
    reader, not the student)."""
    opener = app.reader_opener(config)
    try:
        with opener() as reader:
            if not reader.card_present(timeout=timeout_s):
                return Text(
                    "读卡器已连接，但没有读到身份证：请把身份证放在读卡器上再试。",
                    "The reader answers but found no card: place an ID card on it and try again.",
                )
            chip = reader.read_card(timeout=timeout_s)
    except OfficerError as error:
        return error.sentence()
    return Text("读卡成功：证件号 {n}。", "Card read: number {n}.").format(n=mask_id_number(chip.id_number))
