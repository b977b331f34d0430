import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from tests import factories as f


@pytest.fixture(autouse=True)
def _clean_cache():
    """Token failure counts live in the cache."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def as_user(db):
    """as_user(user, scopes=...) -> an APIClient that sends that user's token."""

    def make(user, scopes=f.READ_WRITE):
        client = APIClient()
        client.credentials(**f.auth(f.token(user, scopes)))
        return client

    return make
