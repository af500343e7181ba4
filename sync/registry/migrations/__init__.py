"""Alembic migrations of the registry database (env.py, script.py.mako, versions/); run by ``sync.registry.migrate``."""
