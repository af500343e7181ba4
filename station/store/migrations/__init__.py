"""Alembic migrations of the station database (env.py, script.py.mako, versions/)."""
