"""The desk's look in one place: colours by meaning, the large type of the step banner, the stylesheet.

Colours carry meaning, never decoration: green done, blue/grey an instruction, amber a warning or
something in progress, red a refusal or a fault. Sizes are chosen for a 1366×768 county PC read from
an arm's length: the step banner is the largest text on screen, the refusal panel the second.
"""

from __future__ import annotations

from station.capture.guidance import Tone

GREEN = "#1b7f3b"
BLUE = "#1d4f91"
AMBER = "#a35f00"
RED = "#b00020"
GREY = "#5f6368"
PAPER = "#ffffff"
PANEL = "#f4f6f8"

TONE_COLOURS = {Tone.ASK: BLUE, Tone.BUSY: AMBER, Tone.DONE: GREEN, Tone.STOP: RED}
STATUS_COLOURS = {"pass": GREEN, "warn": AMBER, "fail": RED, "skipped": GREY}
STATUS_MARKS = {"pass": "✔", "warn": "!", "fail": "✘", "skipped": "·"}

STYLESHEET = f"""
QMainWindow, QWidget#desk {{ background: {PANEL}; }}
QFrame#banner {{ border-radius: 6px; }}
QLabel#banner_text {{ color: white; font-size: 22pt; font-weight: bold; }}
QLabel#banner_keys {{ color: white; font-size: 11pt; }}
QLabel#banner_number {{ color: white; font-size: 26pt; font-weight: bold; }}
QFrame#refusal {{ background: #fdecee; border: 3px solid {RED}; border-radius: 6px; }}
QLabel#refusal_title {{ color: {RED}; font-size: 20pt; font-weight: bold; }}
QLabel#refusal_reason {{ color: #202124; font-size: 13pt; }}
QLabel#refusal_next {{ color: #202124; font-size: 14pt; font-weight: bold; }}
QLabel#small_print {{ color: {GREY}; font-size: 8pt; }}
QLabel#instruction {{ font-size: 16pt; font-weight: bold; }}
QLabel#notice {{ font-size: 11pt; }}
QGroupBox {{ font-weight: bold; }}
QTableView {{ background: {PAPER}; selection-background-color: #cfe3ff; selection-color: black; }}
QLineEdit#search {{ font-size: 12pt; padding: 4px; }}
"""
