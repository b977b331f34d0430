"""Staff are told when work arrives: a Notification row for the in-portal list, and a mail through the
outbox, at once or in one daily digest as each person chose."""

from __future__ import annotations

import datetime
import re

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from accounts import notifications
from accounts.context_processors import notifications as processor
from accounts.models import (
    Notification,
    NotificationDelivery,
    NotificationDigest,
    NotificationKind,
    NotificationPreference,
    User,
)
from accounts.privacy import user_erase
from accounts.roles import Role
from allocations.applications.models import ApplicationStatus
from allocations.review import services as review_services
from allocations.review.models import ReviewAssignment
from compliance import services as compliance_services
from compliance.models import EthicsStatus
from portal.audit import AuditAction
from portal.models import AuditEvent, OutgoingEmail
from tests import factories as f

pytestmark = pytest.mark.django_db

ETHICS_ISSUE = {**f.ETHICS_ALL_NO, "human_participants": {"answer": True, "text": "Interviews with nurses."}}


def kinds_of(person) -> list[str]:
    return list(Notification.objects.filter(recipient=person).order_by("pk").values_list("kind", flat=True))


def mails_to(person) -> list:
    return [m for m in mail.outbox if m.to == [person.email]]


def wants_digest(person, language: str = "en") -> None:
    NotificationPreference.objects.create(user=person, delivery=NotificationDelivery.DAILY_DIGEST)
    User.objects.filter(pk=person.pk).update(language=language)
    person.language = language


def assign(app, person, boss, **kwargs):
    return review_services.reviewer_assign(actor=boss, application=app, reviewer=person, kind="technical", **kwargs)


# --- each kind: a row for the list and a mail ---------------------------------------------------------


def test_an_assigned_reviewer_is_notified_with_the_due_date_and_the_link(run_on_commit):
    app = f.application(status=ApplicationStatus.IN_REVIEW)
    person, boss = f.reviewer(), f.manager()
    with run_on_commit():
        assignment = assign(app, person, boss)
    notification = Notification.objects.get(recipient=person)
    assert notification.kind == NotificationKind.REVIEWER_ASSIGNED
    assert notification.link == reverse("review:assignment_detail", args=[assignment.pk])
    assert notification.read_at is None and notification.mailed_at is not None
    assert f"due {date_format(assignment.due_date, 'DATE_FORMAT')}." in notification.text
    assert "Kind of review: Technical." in notification.text
    [message] = mails_to(person)
    assert message.subject == f"[AI Factory] Review assigned to you: {app.reference}"
    assert notification.text in message.body
    assert f"{settings.PORTAL_BASE_URL}/staff/reviews/{assignment.pk}/" in message.body
    assert f"{settings.PORTAL_BASE_URL}/me/" in message.body
    assert kinds_of(boss) == []  # the manager who assigned is not told what they did


def test_an_application_entering_the_ethics_queue_is_notified_to_every_ethics_officer(member, organisation,
                                                                                      capacity, run_on_commit):
    officers = [f.EthicsOfficerFactory(), f.EthicsOfficerFactory()]
    inactive = f.EthicsOfficerFactory(is_active=False)
    boss = f.manager()
    with run_on_commit():
        app = f.submitted(member, organisation, ethics=ETHICS_ISSUE)
    assert app.ethics_review.status == EthicsStatus.PENDING
    for officer in officers:
        assert kinds_of(officer) == [NotificationKind.ETHICS_QUEUED]
        [message] = mails_to(officer)
        assert message.subject == f"[AI Factory] Waiting for an ethics review: {app.reference}"
        assert f"{settings.PORTAL_BASE_URL}/staff/ethics/{app.reference}/" in message.body
        assert organisation.legal_name in message.body
    assert kinds_of(inactive) == [] and kinds_of(boss) == []


def test_an_application_cleared_automatically_does_not_reach_the_ethics_officers(member, organisation, capacity,
                                                                                 run_on_commit):
    officer = f.EthicsOfficerFactory()
    with run_on_commit():
        app = f.submitted(member, organisation)
    assert app.ethics_review.status == EthicsStatus.AUTO_CLEARED
    assert kinds_of(officer) == [] and mails_to(officer) == []


def test_a_submitted_review_and_the_last_one_notify_the_managers(run_on_commit):
    app = f.application(status=ApplicationStatus.IN_REVIEW, access_mode="fast_lane")
    boss, other_boss = f.manager(), f.manager()
    person = f.reviewer()
    assignment = assign(app, person, boss)
    review_services.reviewer_declare(actor=person, assignment=assignment, has_conflict=False)
    mail.outbox.clear()
    with run_on_commit():
        review_services.review_submit(actor=person, assignment=assignment, scores=f.full_scores(app),
                                      recommendation="approve")
    app.refresh_from_db()
    assert app.status == ApplicationStatus.AWAITING_DECISION  # the fast lane needs one technical review
    for manager in (boss, other_boss):
        assert kinds_of(manager) == [NotificationKind.REVIEW_SUBMITTED, NotificationKind.READY_FOR_DECISION]
        submitted, ready = Notification.objects.filter(recipient=manager).order_by("pk")
        assert submitted.text.startswith(f"{person.display_name} submitted their review of {app.reference}")
        assert ready.link == reverse("review:application_decision", args=[app.reference])
        assert "ready for a decision" in ready.text
        assert [m.subject for m in mails_to(manager)] == [
            f"[AI Factory] Review submitted: {app.reference}", f"[AI Factory] Ready for a decision: {app.reference}"]
    assert kinds_of(person) == [NotificationKind.REVIEWER_ASSIGNED]


def test_reviews_in_but_ethics_pending_is_not_ready_until_the_ethics_officer_clears_it(run_on_commit):
    app = f.application(status=ApplicationStatus.IN_REVIEW, ethics=EthicsStatus.PENDING)
    boss, person, officer = f.manager(), f.reviewer(), f.EthicsOfficerFactory()
    assignment = assign(app, person, boss)
    review_services.reviewer_declare(actor=person, assignment=assignment, has_conflict=False)
    review_services.review_submit(actor=person, assignment=assignment, scores=f.full_scores(app),
                                  recommendation="approve")
    assert kinds_of(boss) == [NotificationKind.REVIEW_SUBMITTED]
    with run_on_commit():
        compliance_services.ethics_decide(actor=officer, application=app, status=EthicsStatus.CLEARED)
    assert kinds_of(boss) == [NotificationKind.REVIEW_SUBMITTED, NotificationKind.READY_FOR_DECISION]
    assert kinds_of(officer) == []
    # A refusal makes nothing ready.
    other = f.application(status=ApplicationStatus.AWAITING_DECISION, ethics=EthicsStatus.PENDING)
    compliance_services.ethics_decide(actor=officer, application=other, status=EthicsStatus.REFUSED, reasons="No.")
    assert Notification.objects.filter(params__reference=other.reference).count() == 0


def test_a_declared_conflict_reaches_the_managers_with_the_reason(run_on_commit):
    app = f.application(status=ApplicationStatus.IN_REVIEW)
    boss, person = f.manager(), f.reviewer()
    assignment = assign(app, person, boss)
    with run_on_commit():
        review_services.reviewer_declare(actor=person, assignment=assignment, has_conflict=True,
                                         statement="I advised their founder last year.")
    [notification] = Notification.objects.filter(recipient=boss)
    assert notification.kind == NotificationKind.CONFLICT_DECLARED
    assert notification.link == reverse("review:application_reviewers", args=[app.reference])
    assert notification.text == (f"{person.display_name} declared a conflict of interest on {app.reference} "
                                 f"({app.organisation.legal_name}): \"I advised their founder last year.\". "
                                 "Another reviewer is needed.")
    [message] = mails_to(boss)
    assert message.subject == f"[AI Factory] Conflict of interest declared: {app.reference}"
    # Declaring no conflict tells nobody.
    other = f.application(status=ApplicationStatus.IN_REVIEW)
    second = assign(other, f.reviewer(), boss)
    review_services.reviewer_declare(actor=second.reviewer, assignment=second, has_conflict=False)
    assert Notification.objects.filter(recipient=boss).count() == 1


def test_a_refused_change_notifies_nobody(run_on_commit):
    """A service that refuses (a conflict without its statement) leaves no notification and no mail."""
    app = f.application(status=ApplicationStatus.IN_REVIEW)
    boss, person = f.manager(), f.reviewer()
    assignment = assign(app, person, boss)
    mail.outbox.clear()
    count = Notification.objects.count()
    with run_on_commit(), pytest.raises(ValidationError, match="Describe the conflict"):
        review_services.reviewer_declare(actor=person, assignment=assignment, has_conflict=True, statement=" ")
    assert Notification.objects.count() == count and mail.outbox == []


# --- immediate or daily digest --------------------------------------------------------------------


def test_a_digest_person_gets_no_mail_at_once_then_one_digest_a_day(run_on_commit):
    boss, person = f.manager(), f.reviewer()
    wants_digest(person)
    apps = [f.application(status=ApplicationStatus.IN_REVIEW) for _ in range(2)]
    with run_on_commit():
        for app in apps:
            assign(app, person, boss)
    assert Notification.objects.filter(recipient=person, mailed_at=None).count() == 2
    assert mails_to(person) == []
    today = timezone.localdate()
    with run_on_commit():
        assert notifications.digests_send(day=today) == 1
    [digest] = mails_to(person)
    assert digest.subject == "[AI Factory] 2 new notifications"
    for app in apps:
        assert app.reference in digest.body
    assert f"{settings.PORTAL_BASE_URL}/me/notifications/" in digest.body
    assert len(re.findall(rf"{re.escape(settings.PORTAL_BASE_URL)}/staff/reviews/\d+/", digest.body)) == 2
    assert NotificationDigest.objects.get(recipient=person, day=today).notifications == 2
    # The task running twice the same day sends nothing more; neither does new work that day...
    late = f.application(status=ApplicationStatus.IN_REVIEW)
    with run_on_commit():
        assign(late, person, boss)
        assert notifications.digests_send(day=today) == 0
    assert len(mails_to(person)) == 1
    # ...which goes out the next morning, alone.
    with run_on_commit():
        assert notifications.digests_send(day=today + datetime.timedelta(days=1)) == 1
    assert len(mails_to(person)) == 2 and late.reference in mails_to(person)[1].body
    assert mails_to(person)[1].subject == "[AI Factory] 1 new notification"


def test_the_digest_leaves_out_what_was_read_in_the_portal(run_on_commit):
    boss, person = f.manager(), f.reviewer()
    wants_digest(person)
    read, unread = (f.application(status=ApplicationStatus.IN_REVIEW) for _ in range(2))
    assign(read, person, boss)
    assign(unread, person, boss)
    notifications.notification_mark_read(
        actor=person, notification=Notification.objects.get(recipient=person, params__reference=read.reference))
    with run_on_commit():
        notifications.digests_send()
    [digest] = mails_to(person)
    assert unread.reference in digest.body and read.reference not in digest.body
    assert not Notification.objects.filter(recipient=person, mailed_at=None).exists()


def test_everything_read_before_the_digest_means_no_digest(run_on_commit):
    boss, person = f.manager(), f.reviewer()
    wants_digest(person)
    assign(f.application(status=ApplicationStatus.IN_REVIEW), person, boss)
    notifications.notifications_mark_all_read(actor=person)
    with run_on_commit():
        assert notifications.digests_send() == 0
    assert mails_to(person) == [] and not NotificationDigest.objects.exists()
    assert not Notification.objects.filter(recipient=person, mailed_at=None).exists()


def test_mails_are_written_in_the_language_the_person_chose(run_on_commit):
    boss, person, digest_person = f.manager(), f.reviewer(), f.reviewer()
    User.objects.filter(pk=person.pk).update(language="nl")
    person.language = "nl"
    wants_digest(digest_person, language="fr")
    app = f.application(status=ApplicationStatus.IN_REVIEW)
    with run_on_commit():
        assign(app, person, boss)
        assign(app, digest_person, boss)
        notifications.digests_send()
    [immediate] = mails_to(person)
    [digest] = mails_to(digest_person)
    with translation.override("nl"):
        assert immediate.subject == f"[AI Factory] {NotificationKind.REVIEWER_ASSIGNED.label}: {app.reference}"
    assert immediate.subject != f"[AI Factory] Review assigned to you: {app.reference}"
    assert digest.subject == "[AI Factory] 1 nouvelle notification"
    assert translation.get_language() == "en"  # the request's language is left as it was


def test_a_digest_run_lost_in_a_race_stores_and_sends_nothing(run_on_commit):
    """Two runs at once: the second finds the day's digest stored by the first (the unique row)."""
    boss, person = f.manager(), f.reviewer()
    wants_digest(person)
    assign(f.application(status=ApplicationStatus.IN_REVIEW), person, boss)
    today = timezone.localdate()
    NotificationDigest.objects.create(recipient=person, day=today)
    with run_on_commit():
        assert notifications.digest_send(recipient_id=person.pk, day=today) is False
    assert mails_to(person) == [] and Notification.objects.filter(recipient=person, mailed_at=None).count() == 1


# --- who is told ----------------------------------------------------------------------------------


def test_people_without_the_role_are_never_told(run_on_commit):
    applicant, reviewer_only = f.UserFactory(), f.reviewer()
    app = f.application(status=ApplicationStatus.IN_REVIEW, ethics=EthicsStatus.PENDING)
    notifications.notify_role(role=Role.ETHICS_OFFICER, kind=NotificationKind.ETHICS_QUEUED,
                              params={"reference": app.reference}, link="/")
    assert kinds_of(applicant) == [] and kinds_of(reviewer_only) == []


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError):
        notifications.notify(recipients=[f.reviewer()], kind="gossip", params={}, link="/")


def test_notifying_many_people_costs_the_same_queries_per_person(django_assert_num_queries):
    """One preference query and one insert for everyone, then one outbox row per person mailed at once."""
    people = [f.EthicsOfficerFactory() for _ in range(6)]
    for person in people[:3]:
        wants_digest(person)
    with django_assert_num_queries(2 + 3):
        rows = notifications.notify(recipients=people, kind=NotificationKind.ETHICS_QUEUED,
                                    params={"reference": "AIF-2026-0001", "organisation": "X"}, link="/")
    assert len(rows) == 6 and OutgoingEmail.objects.count() == 3


# --- the person's list, the header and the preference ----------------------------------------------


def notified_reviewer(count: int = 1):
    person, boss = f.reviewer(), f.manager()
    for _ in range(count):
        assign(f.application(status=ApplicationStatus.IN_REVIEW), person, boss)
    return person


def test_the_header_shows_the_unread_count_in_one_query(client, django_assert_num_queries):
    person = notified_reviewer(3)
    request = RequestFactory().get("/")
    request.user = person
    context = processor(request)
    with django_assert_num_queries(1):
        assert context["unread_notifications"].count == 3
        assert context["unread_notifications"].count == 3  # read once per request
    client.force_login(person)
    page = client.get(reverse("dashboard")).content.decode()
    assert '<span class="badge count" aria-hidden="true">3</span>' in page and "(3 unread)" in page
    notifications.notifications_mark_all_read(actor=person)
    page = client.get(reverse("dashboard")).content.decode()
    assert 'class="badge count"' not in page


def test_anonymous_visitors_get_no_count():
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    assert processor(request) == {}


def test_the_list_is_paginated_and_its_query_count_does_not_grow(client, django_assert_num_queries):
    person = notified_reviewer(3)
    client.force_login(person)
    url = reverse("accounts:notifications")
    client.get(url)
    # Session, user, page rows, the header's unread count (the roles for the navigation: one more); a list that
    # fits on its first page is counted from its rows (portal.paging.page_of), a longer one costs the count.
    with django_assert_num_queries(5):
        page = client.get(url).content.decode()
    assert page.count('<li class="notification unread">') == 3
    others = Notification.objects.filter(recipient=person)
    Notification.objects.bulk_create([Notification(recipient=person, kind=n.kind, params=n.params, link=n.link)
                                      for n in others for _ in range(10)])
    with django_assert_num_queries(6):
        page = client.get(url).content.decode()
    assert page.count('<li class="notification unread">') == 25 and "Page 1 of 2" in page


def test_opening_marks_read_and_goes_to_the_work(client):
    person = notified_reviewer()
    notification = Notification.objects.get(recipient=person)
    client.force_login(person)
    assert client.get(reverse("accounts:notification_open", args=[notification.pk])).status_code == 405
    response = client.post(reverse("accounts:notification_open", args=[notification.pk]))
    assert response.status_code == 302 and response.url == notification.link
    notification.refresh_from_db()
    assert notification.read_at is not None
    assert client.get(response.url).status_code == 200


def test_mark_read_and_mark_all_read(client):
    person = notified_reviewer(3)
    first, *rest = Notification.objects.filter(recipient=person).order_by("pk")
    client.force_login(person)
    response = client.post(reverse("accounts:notification_read", args=[first.pk]), {"page": "1"})
    assert response.status_code == 302 and response.url == reverse("accounts:notifications") + "?page=1"
    assert Notification.objects.filter(recipient=person, read_at=None).count() == 2
    response = client.post(reverse("accounts:notification_read_all"), {"page": "https://evil.example/"})
    assert response.url == reverse("accounts:notifications")
    assert not Notification.objects.filter(recipient=person, read_at=None).exists()


def test_another_persons_notification_does_not_exist(client):
    person, other = notified_reviewer(), notified_reviewer()
    theirs = Notification.objects.get(recipient=other)
    client.force_login(person)
    for name in ("accounts:notification_open", "accounts:notification_read"):
        assert client.post(reverse(name, args=[theirs.pk])).status_code == 404
    client.post(reverse("accounts:notification_read_all"))
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert theirs.text not in client.get(reverse("accounts:notifications")).content.decode()


def test_the_pages_need_a_signed_in_person(client):
    for url in (reverse("accounts:notifications"), reverse("accounts:account")):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("account_login"))


def test_the_account_page_sets_the_preference_and_audits_it(client):
    person = f.reviewer()
    client.force_login(person)
    page = client.get(reverse("accounts:account")).content.decode()
    assert "An e-mail for each notification, as it arrives" in page
    response = client.post(reverse("accounts:account"), {"delivery": "daily_digest", "language": "fr"})
    assert response.status_code == 302
    preference = NotificationPreference.objects.get(user=person)
    person.refresh_from_db()
    assert (preference.delivery, person.language) == ("daily_digest", "fr")
    event = AuditEvent.objects.get(action=AuditAction.NOTIFICATION_PREFERENCE_CHANGED)
    assert event.actor_id == person.pk and event.changes == {"delivery": "daily_digest", "language": "fr"}
    # The same choice again records nothing.
    client.post(reverse("accounts:account"), {"delivery": "daily_digest", "language": "fr"})
    assert AuditEvent.objects.filter(action=AuditAction.NOTIFICATION_PREFERENCE_CHANGED).count() == 1


@pytest.mark.parametrize("data", [{"delivery": "hourly", "language": "en"}, {"delivery": "immediate",
                                                                            "language": "de"}, {}])
def test_a_bad_preference_is_refused_and_changes_nothing(client, data):
    person = f.reviewer()
    client.force_login(person)
    response = client.post(reverse("accounts:account"), data)
    assert response.status_code == 200
    assert 'class="errorlist"' in response.content.decode()
    assert not NotificationPreference.objects.filter(user=person).exists()
    assert not AuditEvent.objects.filter(action=AuditAction.NOTIFICATION_PREFERENCE_CHANGED).exists()


def test_the_service_refuses_bad_values_too():
    person = f.reviewer()
    with pytest.raises(ValidationError) as refused:
        notifications.notification_preference_set(actor=person, delivery="weekly", language="xx")
    assert set(refused.value.message_dict) == {"delivery", "language"}


# --- personal data --------------------------------------------------------------------------------


def test_erasure_removes_the_persons_notifications_and_their_name_from_others(run_on_commit):
    app = f.application(status=ApplicationStatus.IN_REVIEW)
    boss, person = f.manager(), f.reviewer()
    wants_digest(person)
    assignment = assign(app, person, boss)
    review_services.reviewer_declare(actor=person, assignment=assignment, has_conflict=True,
                                     statement="My sister works there.")
    name = person.display_name
    user_erase(actor=person, user=person)
    assert not Notification.objects.filter(recipient=person).exists()
    assert not NotificationPreference.objects.filter(user=person).exists()
    [theirs] = Notification.objects.filter(recipient=boss)
    assert name not in theirs.text and "My sister" not in theirs.text
    assert ReviewAssignment.objects.filter(pk=assignment.pk).exists()


def test_the_export_lists_the_notifications(client):
    person = notified_reviewer(2)
    client.force_login(person)
    data = client.get(reverse("accounts:privacy_export")).json()
    assert len(data["notifications"]["notifications"]) == 2
    assert data["notifications"]["notifications"][0]["kind"] == NotificationKind.REVIEWER_ASSIGNED
