"""station."""
