"""Fixtures for the real-service integration tests."""

from tests.integration.helpers import worker  # noqa: F401 - re-exported as a fixture
