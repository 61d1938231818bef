"""Alembic migration environment of triage, shipped inside the package so an install can migrate."""
