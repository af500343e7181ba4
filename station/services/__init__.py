"""station/services."""
