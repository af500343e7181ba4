"""station/capture."""
