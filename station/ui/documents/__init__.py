"""Printed documents, drawn with Qt's own painter: the class sign-off sheet, the student's receipt and
the recovery-code sheet. Each is written as PDF with ``QPdfWriter`` (no other dependency) straight
from memory to the file the administrator chose — no temporary file, no temporary JPEG — or sent to
a printer with the same drawing code."""
