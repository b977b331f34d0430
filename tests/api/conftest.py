import shutil

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from . import factories as f


@pytest.fixture(autouse=True)
def _clean_cache_and_media(tmp_path, settings):
    """Token failure counts live in the cache; attachments in their own folder per test."""
    cache.clear()
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    yield
    cache.clear()
    shutil.rmtree(settings.PRIVATE_MEDIA_ROOT, ignore_errors=True)


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


@pytest.fixture
def applicant(db):
    return f.applicant()


@pytest.fixture
def outsider(db):
    """A member of another organisation: must never see the applicant's objects."""
    return f.applicant()


@pytest.fixture
def boss(db):
    return f.manager()


@pytest.fixture
def capacity(db):
    f.publish_capacity()

