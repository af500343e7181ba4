"""station/camera."""
