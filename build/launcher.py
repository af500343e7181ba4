"""The frozen station's entry point (the PyInstaller script): the same ``station`` command."""

import multiprocessing
import sys

from station.__main__ import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # a no-op unless a library spawns worker processes on Windows
    sys.exit(main())
