"""The current-step banner: what to do now, in the largest type on screen, coloured by its tone."""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout

from station.capture.guidance import Step
from station.ui.theme import TONE_COLOURS

_NUMBERS = {1: "①", 2: "②", 3: "③"}


class StepBanner(QFrame):
    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("banner")
        self.number = QLabel()
        self.number.setObjectName("banner_number")
        self.text = QLabel()
        self.text.setObjectName("banner_text")
        self.text.setWordWrap(True)
        self.keys = QLabel()
        self.keys.setObjectName("banner_keys")
        words = QVBoxLayout()
        words.setSpacing(0)
        words.addWidget(self.text)
        words.addWidget(self.keys)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 12, 6)
        layout.addWidget(self.number)
        layout.addLayout(words, stretch=1)
        self.step: Step | None = None

    def show_step(self, step: Step) -> None:
        if step == self.step:
            return
        self.step = step
        self.number.setText(_NUMBERS.get(step.number or 0, "✘" if step.number is None else ""))
        self.text.setText(str(step.text))
        self.keys.setText(str(step.keys) if step.keys else "")
        self.keys.setVisible(step.keys is not None)
        self.setStyleSheet(f"QFrame#banner {{ background: {TONE_COLOURS[step.tone]}; }}")
