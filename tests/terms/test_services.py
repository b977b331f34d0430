"""Publishing and accepting terms of use, and the beat task at a version's effective date and grace end."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from allocations.applications.models import TeamMember
from allocations.grants.models import Allocation, AllocationStatus
from allocations.terms import services
from allocations.terms.models import TermsAcceptance, TermsVersion
from portal.audit import AuditAction
from portal.models import AuditEvent
from tests import factories as f

pytestmark = pytest.mark.django_db

def publish(actor, **overrides):
    fields = {"site": None, "title_en": "Acceptable use", "text_en": "Use the clusters for the project only.",
              "effective_date": timezone.localdate(), "grace_days": 30}
    fields.update(overrides)
    return services.terms_publish(actor=actor, **fields)


def granted(users=("alice",), sites=("zellik",), status=None):
    """An allocation whose team members have accounts; returns (allocation, {username: user})."""
    allocation, _manager, _applicant = f.approved_allocation(users=users, sites=sites)
    if status:
        Allocation.objects.filter(pk=allocation.pk).update(status=status)
    accounts = {m.cluster_username: f.member_account(m) for m in TeamMember.objects.filter(
        application_id=allocation.application_id)}
    return allocation, accounts


# ------------------------------------------------------------------------------------ publish

def test_an_operator_publishes_numbered_versions_per_scope_and_each_is_audited():
    operator = f.OperatorFactory()
    first = publish(operator)
    second = publish(operator, title_fr="Utilisation acceptable", text_fr="Le projet seulement.")
    zellik = publish(operator, site=f.site("zellik"))
    assert (first.number, second.number, zellik.number) == (1, 2, 1)
    assert second.published_by == operator and second.site is None and zellik.site.code == "zellik"
    events = AuditEvent.objects.filter(action=AuditAction.TERMS_PUBLISHED).order_by("seq")
    assert [e.changes["number"] for e in events] == [1, 2, 1]
    assert events[1].changes["languages"] == ["en", "fr"]


def test_only_an_operator_who_passed_the_second_factor_publishes():
    with pytest.raises(PermissionDenied):
        publish(f.UserFactory())
    with pytest.raises(PermissionDenied):
        publish(f.AllocationManagerFactory())
    assert not TermsVersion.objects.exists()


@pytest.mark.parametrize(("overrides", "field"), [
    ({"title_en": "  "}, "title_en"),
    ({"text_en": ""}, "text_en"),
    ({"title_fr": "Conditions", "text_fr": ""}, "text_fr"),
    ({"text_nl": "Alleen het project."}, "title_nl"),
    ({"effective_date": datetime.date(2020, 1, 1)}, "effective_date"),
    ({"effective_date": None}, "effective_date"),
    ({"grace_days": 366}, "grace_days"),
    ({"grace_days": None}, "grace_days"),
])
def test_bad_input_is_refused_next_to_its_field_and_publishes_nothing(overrides, field):
    with pytest.raises(ValidationError) as exc:
        publish(f.OperatorFactory(), **overrides)
    assert field in exc.value.message_dict
    if overrides.get("effective_date", 0) is None:
        assert exc.value.message_dict[field] == ["Give the effective date."]
    assert not TermsVersion.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditAction.TERMS_PUBLISHED).exists()


def test_a_version_in_force_at_once_queues_the_resync_and_a_later_one_waits_for_the_beat(
        django_capture_on_commit_callbacks):
    operator = f.OperatorFactory()
    with django_capture_on_commit_callbacks() as now:
        publish(operator)
    with django_capture_on_commit_callbacks() as later:
        publish(operator, effective_date=timezone.localdate() + datetime.timedelta(days=10))
    assert len(now) == 1 and len(later) == 0


def test_the_text_is_shown_in_the_readers_language_with_english_as_fallback():
    version = f.terms_version(text="English text", text_fr="Texte français", title_fr="Titre")
    with translation.override("fr"):
        assert (version.title, version.text) == ("Titre", "Texte français")
    with translation.override("nl"):
        assert version.text == "English text"


# ------------------------------------------------------------------------------------ accept

def test_accepting_records_version_time_person_and_language_audited_without_a_name(
        django_capture_on_commit_callbacks):
    allocation, accounts = granted()
    alice = accounts["alice"]
    version = f.terms_version()
    before = Allocation.objects.get(pk=allocation.pk).desired_version
    with django_capture_on_commit_callbacks() as callbacks:
        acceptance = services.terms_accept(actor=alice, version=version, language="nl")
    assert (acceptance.user, acceptance.version, acceptance.language) == (alice, version, "nl")
    assert abs((timezone.now() - acceptance.accepted_at).total_seconds()) < 60
    event = AuditEvent.objects.get(action=AuditAction.TERMS_ACCEPTED)
    assert event.actor_id == alice.pk and event.changes == {"site": None, "number": 1, "language": "nl"}
    assert alice.email not in str(event.changes)
    assert Allocation.objects.get(pk=allocation.pk).desired_version == before + 1, "marked for provisioning"
    assert len(callbacks) == 1


def test_accepting_twice_changes_nothing():
    _allocation, accounts = granted()
    version = f.terms_version()
    first = services.terms_accept(actor=accounts["alice"], version=version)
    again = services.terms_accept(actor=accounts["alice"], version=version)
    assert first.pk == again.pk
    assert AuditEvent.objects.filter(action=AuditAction.TERMS_ACCEPTED).count() == 1


def test_a_superseded_version_or_terms_that_do_not_apply_are_refused():
    _allocation, accounts = granted(sites=("zellik",))
    old = f.terms_version()
    f.terms_version()
    with pytest.raises(ValidationError, match="newer version"):
        services.terms_accept(actor=accounts["alice"], version=old)
    charleroi = f.terms_version(site=f.site("charleroi"))
    with pytest.raises(ValidationError, match="do not apply"):
        services.terms_accept(actor=accounts["alice"], version=charleroi)
    with pytest.raises(ValidationError, match="do not apply"):
        latest = TermsVersion.objects.filter(site=None).order_by("-number").first()
        services.terms_accept(actor=f.UserFactory(), version=latest)
    assert not TermsAcceptance.objects.exists()


def test_a_member_who_confirmed_before_having_an_account_is_linked_when_accepting():
    allocation, _manager, _applicant = f.approved_allocation(users=("bea",))
    member = TeamMember.objects.get(application_id=allocation.application_id)
    assert member.user_id is None
    person = f.UserFactory(email=member.email.upper())
    services.terms_accept(actor=person, version=f.terms_version())
    member.refresh_from_db()
    assert member.user == person


# ------------------------------------------------------------------------------------ the beat task

def test_grace_end_marks_the_allocations_of_members_who_did_not_accept_once(django_capture_on_commit_callbacks):
    late, late_accounts = granted(users=("lou",))
    done, done_accounts = granted(users=("dan",))
    ended, ended_accounts = granted(users=("eve",), status=AllocationStatus.EXPIRED)
    today = timezone.localdate()
    v1 = f.terms_version(effective=today - datetime.timedelta(days=60))
    for accounts in (late_accounts, done_accounts, ended_accounts):
        f.accept_terms(next(iter(accounts.values())), v1, days_ago=59)
    TermsVersion.objects.filter(pk=v1.pk).update(resynced_on=v1.effective_date)
    v2 = f.terms_version(effective=today - datetime.timedelta(days=10), grace_days=5)
    f.accept_terms(done_accounts["dan"], v2)
    versions = {a.pk: a.desired_version for a in Allocation.objects.all()}

    with django_capture_on_commit_callbacks() as callbacks:
        assert services.terms_resync_due(today=today) == 1
    after = {a.pk: a.desired_version for a in Allocation.objects.all()}
    assert after[late.pk] == versions[late.pk] + 1
    assert after[done.pk] == versions[done.pk] and after[ended.pk] == versions[ended.pk]
    assert len(callbacks) == 1
    assert services.terms_resync_due(today=today) == 0, "a second run the same day marks nothing"


def test_during_the_grace_period_only_the_effective_date_was_handled_and_the_end_comes_later():
    late, accounts = granted(users=("lou",))
    today = timezone.localdate()
    v1 = f.terms_version(effective=today - datetime.timedelta(days=60))
    f.accept_terms(accounts["lou"], v1, days_ago=59)
    TermsVersion.objects.filter(pk=v1.pk).update(resynced_on=v1.effective_date)
    f.terms_version(effective=today, grace_days=7)
    assert services.terms_resync_due(today=today) == 1  # came into force (nothing changes for lou yet)
    assert services.terms_resync_due(today=today + datetime.timedelta(days=3)) == 0
    assert services.terms_resync_due(today=today + datetime.timedelta(days=7)) == 1  # grace over
    assert services.terms_resync_due(today=today + datetime.timedelta(days=8)) == 0
