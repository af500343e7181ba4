"""sync/registry."""
