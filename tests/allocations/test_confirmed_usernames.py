"""Confirmed-username sites: the username must exist on the site (checked as the settings say: getent here,
on this host or behind a command prefix), when the member is added and again when the person confirms it
as theirs. Directory sites do not check typed names: the portal binds the account itself."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from allocations.applications import services as application_services
from allocations.applications.models import TeamMember
from allocations.catalogue.models import IdentityBackend
from tests import factories as f

pytestmark = pytest.mark.django_db

EXISTING = "_apt"  # every Debian system has it, and it is no system name the portal reserves


def _add(member, app, username, email="ines@example.eu"):
    return application_services.team_member_add(actor=member, application=app, full_name="Ines", email=email,
                                                cluster_username=username)


def test_a_username_unknown_to_the_site_is_refused_next_to_the_field(settings, member, app_draft, capacity):
    settings.AIF_USERNAME_CHECK = "getent"
    f.fill(member, app_draft, team=False)
    with pytest.raises(ValidationError) as refused:
        _add(member, app_draft, "nosuchuser-aif")
    assert "is not an account on Zellik" in " ".join(refused.value.message_dict["cluster_username"])
    assert not TeamMember.objects.exists() and mail.outbox == []
    assert _add(member, app_draft, EXISTING).cluster_username == EXISTING


def test_without_a_configured_check_nothing_is_asked(settings, member, app_draft, capacity):
    settings.AIF_USERNAME_CHECK = "none"
    f.fill(member, app_draft, team=False)
    assert _add(member, app_draft, "nosuchuser-aif").cluster_username == "nosuchuser-aif"


def test_directory_sites_do_not_check_typed_names(settings, member, app_draft, capacity):
    settings.AIF_USERNAME_CHECK = "getent"
    f.fill(member, app_draft, team=False)
    site = f.site("zellik")
    site.identity_backend = IdentityBackend.DIRECTORY
    site.save(update_fields=["identity_backend"])
    assert _add(member, app_draft, "nosuchuser-aif").cluster_username == "nosuchuser-aif"


def test_the_check_runs_behind_the_prefix_from_settings(settings, member, app_draft, capacity, tmp_path):
    # A stand-in for "ssh slurm-head": it records what it was asked to run, then runs it here.
    log = tmp_path / "asked"
    wrapper = tmp_path / "remote"
    wrapper.write_text(f'#!/bin/sh\necho "$@" >> {log}\nexec "$@"\n')
    wrapper.chmod(0o755)
    settings.AIF_USERNAME_CHECK = "getent"
    settings.AIF_USERNAME_CHECK_PREFIX = [str(wrapper)]
    f.fill(member, app_draft, team=False)
    _add(member, app_draft, EXISTING)
    assert log.read_text().split() == ["getent", "passwd", EXISTING]


def test_a_failing_check_refuses_with_a_retry_message(settings, member, app_draft, capacity):
    settings.AIF_USERNAME_CHECK = "getent"
    settings.AIF_USERNAME_CHECK_PREFIX = ["/nonexistent/ssh"]
    f.fill(member, app_draft, team=False)
    with pytest.raises(ValidationError) as refused:
        _add(member, app_draft, EXISTING)
    assert "could not be asked" in " ".join(refused.value.message_dict["cluster_username"])


def test_the_person_confirms_only_a_username_that_exists(settings, member, app_draft, capacity, client,
                                                        django_capture_on_commit_callbacks):
    settings.AIF_USERNAME_CHECK = "none"
    f.fill(member, app_draft, team=False)
    with django_capture_on_commit_callbacks(execute=True):
        _add(member, app_draft, "gone-user")
    token = re.search(r"/team/confirm/([^/\s]+)/", mail.outbox[-1].body)[1]
    settings.AIF_USERNAME_CHECK = "getent"  # the site checks from now on; the name does not exist
    response = client.post(f"/team/confirm/{token}/")
    assert "is not an account on Zellik" in response.content.decode()
    assert TeamMember.objects.get().confirmed_at is None
