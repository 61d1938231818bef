"""Shared fixtures of the test suite, from tests/support/."""

pytest_plugins = ["tests.support.db"]
