"""Revision scripts, oldest first: 0001 the first schema, then each change on top of it."""
