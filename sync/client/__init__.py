"""sync/client."""
