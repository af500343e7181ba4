"""station/ui."""
