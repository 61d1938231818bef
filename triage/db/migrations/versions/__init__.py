"""Alembic revisions (Alembic skips this file; it makes the folder part of the installed package)."""
