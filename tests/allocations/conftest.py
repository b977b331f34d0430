import shutil

import pytest

from tests import factories as shared

from . import factories


@pytest.fixture(autouse=True)
def private_media(tmp_path, settings):
    """Attachments of each test in their own folder."""
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    yield settings.PRIVATE_MEDIA_ROOT
    shutil.rmtree(settings.PRIVATE_MEDIA_ROOT, ignore_errors=True)


@pytest.fixture
def capacity(db):
    return factories.publish_capacity()


@pytest.fixture
def other_org_user(db):
    """A member of a second organisation: must never see the first one's applications."""
    return shared.MembershipFactory().user


@pytest.fixture
def app_draft(db, member, organisation):
    return factories.draft(member, organisation)


@pytest.fixture
def app_complete(db, member, organisation, capacity):
    return factories.complete(member, organisation)

