"""Revision scripts, oldest first: 0001 the schema of the first release, then each change on top of it."""
