"""station/idcard."""
