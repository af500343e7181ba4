"""station/domain."""
