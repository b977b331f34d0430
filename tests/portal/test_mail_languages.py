"""Every mail the portal sends, for a recipient whose language is not the language of whoever's action
sent it (the scheduled ones too, sent with no request at all): written in the recipient's language,
plain text that escapes nothing plus an HTML alternative, the portal's name in the subject, links on the
base URL, labels and never codes.

The mails are enumerated from the templates: a new `*_body.txt` under an `email/` folder fails
`test_every_mail_template_is_covered` until a scenario here sends it."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone, translation

from accounts import notifications
from accounts.models import NotificationDelivery, NotificationPreference, User
from accounts.services import invitation_create
from allocations.applications import services as application_services
from allocations.applications.models import ApplicationStatus
from allocations.catalogue.models import ProvisioningMode, Site
from allocations.grants import services as grant_services
from allocations.grants.models import AllocationQuota
from allocations.provisioning.record import RecordBackend
from allocations.provisioning.services import pull_usage, sync_allocation
from allocations.provisioning.slurm.backends import register_backend
from allocations.review import services as review_services
from allocations.review import tasks as review_tasks
from portal import emails
from portal.models import OutgoingEmail
from tests import factories as f

pytestmark = pytest.mark.django_db

BASE_URL = "https://portal.example.eu"
TEMPLATES_DIR = Path(settings.BASE_DIR) / "templates"
ORGANISATION = "D'Hondt & Zonen <BV>"
PERSON = "Anne D'Hondt"
TITLE = "Beeldherkenning voor logistiek"  # the applicant's own words appear in some mails as typed
# Short English words no French or Dutch sentence of these mails holds: one of them is an English
# sentence the catalogue did not translate.
ENGLISH = re.compile(r"\b(the|you|your|Hello|please|this|with|has|have|been|and|to)\b")
ENTITY = re.compile(r"&(#x?[0-9a-fA-F]+|amp|lt|gt|quot|apos);")
CODES = re.compile(r"\b(technical|scientific|in_review|awaiting_decision|suspended|immediate|daily_digest)\b")
USED: dict[str, dict] = {}


class MeteredBackend(RecordBackend):
    """The record backend with usage figures set by the test (the boundary sshare would fill)."""

    kind = "mail-metered"

    def usage(self, cluster, accounts):
        return {a: USED[a] for a in accounts if a in USED}


register_backend("mail-metered", MeteredBackend)


@pytest.fixture(autouse=True)
def _public_base_url(settings):
    settings.PORTAL_BASE_URL = BASE_URL
    settings.ALLOWED_HOSTS = ["127.0.0.1", "testserver"]


@pytest.fixture
def sent(monkeypatch):
    """The templates rendered (a spy on portal.emails.render_email, which still renders)."""
    names: list[str] = []
    render = emails.render_email

    def spy(template, context):
        names.append(template)
        return render(template, context)

    monkeypatch.setattr(emails, "render_email", spy)
    return names


def person(language: str, **kwargs) -> User:
    user = kwargs.pop("user", None) or f.UserFactory(full_name=PERSON, **kwargs)
    User.objects.filter(pk=user.pk).update(language=language)
    user.language = language
    return user


def messages_to(user: User) -> list[OutgoingEmail]:
    return [m for m in OutgoingEmail.objects.order_by("pk") if user.email in m.to]


def check(message: OutgoingEmail, language: str) -> None:
    """The message is in `language`, escapes nothing in its text, links to the base URL, prints labels."""
    text = f"{message.subject}\n{message.body}"
    assert message.subject.startswith(f"[{settings.AIF_PORTAL_NAME}] "), message.subject
    assert message.subject.count("[") == 1, message.subject  # the name once: no template adds it again
    assert not ENTITY.search(text), text
    assert not ENGLISH.search(text.replace(TITLE, "")), (language, text)
    assert not CODES.search(text), text
    links = re.findall(r"https?://\S+", message.body)
    assert links and all(link == BASE_URL or link.startswith(BASE_URL + "/") for link in links), links
    assert "{{" not in text and "{%" not in text
    assert f'<html lang="{language}">' in message.html_body
    assert "<a href=\"" + BASE_URL in message.html_body


@pytest.fixture(params=["nl", "fr"])
def language(request):
    # The person whose action sends the mail reads the portal in English.
    with translation.override("en"):
        yield request.param


def test_invitation_and_team_confirmation(language, sent):
    owner = f.applicant()
    organisation = f.org_of(owner)
    organisation.legal_name = ORGANISATION
    organisation.save()
    invited = person(language)
    invitation_create(actor=owner, organisation=organisation, email=invited.email)
    app = f.draft(owner, organisation)
    application_services.team_member_add(actor=owner, application=app, full_name=PERSON, email=invited.email,
                                         cluster_username="anne")
    invitation, confirmation = messages_to(invited)
    for message in (invitation, confirmation):
        check(message, language)
        assert ORGANISATION in message.body and "&amp;" in message.html_body
    assert PERSON in confirmation.body
    assert set(sent) == {"accounts/email/invitation", "allocations/email/team_invitation"}


def test_application_status_approval_and_allocation_status(language, sent):
    f.publish_capacity()
    app = f.application(status=ApplicationStatus.AWAITING_DECISION, title=TITLE)
    app.organisation.legal_name = ORGANISATION
    app.organisation.save()
    applicant = person(language, user=app.organisation.memberships.get().user)
    boss = f.manager()
    review_services.application_approve(actor=boss, application=app, quotas={f.site("zellik").pk: {"gpu_hours": 100}})
    allocation = app.allocation
    grant_services.allocation_start_if_due(allocation=allocation, today=allocation.start_date)
    allocation.refresh_from_db()
    grant_services.allocation_transition(actor=None, allocation=allocation, to="active")
    grant_services.allocation_suspend(actor=boss, allocation=allocation, reason="Onderhoud")
    other = f.application(status=ApplicationStatus.AWAITING_DECISION, organisation=app.organisation, title=TITLE)
    review_services.application_reject(actor=boss, application=other, reasons="Buiten het toepassingsgebied")
    messages = messages_to(applicant)
    assert len(messages) >= 3
    for message in messages:
        check(message, language)
    assert {"allocations/email/application_approved", "allocations/email/allocation_status",
            "allocations/email/status_changed"} <= set(sent)


def test_notifications_at_once_and_in_the_daily_digest(language, sent):
    app = f.application(status=ApplicationStatus.IN_REVIEW)
    app.organisation.legal_name = ORGANISATION
    app.organisation.save()
    at_once, digest = person(language, user=f.reviewer()), person(language, user=f.reviewer())
    NotificationPreference.objects.create(user=digest, delivery=NotificationDelivery.DAILY_DIGEST)
    boss = f.manager()
    review_services.reviewer_assign(actor=boss, application=app, reviewer=at_once, kind="technical")
    review_services.reviewer_assign(actor=boss, application=app, reviewer=digest, kind="technical")
    notifications.digests_send()  # the beat task's work, with no request and no language active
    [message] = messages_to(at_once)
    check(message, language)
    assert ORGANISATION in message.body
    [daily] = messages_to(digest)
    check(daily, language)
    assert set(sent) == {"accounts/email/notification", "accounts/email/notification_digest"}


def test_scheduled_deadline_reminders(language, sent):
    today = timezone.localdate()
    app = f.application(status=ApplicationStatus.IN_REVIEW, decision_due=today - datetime.timedelta(days=10))
    app.organisation.legal_name = ORGANISATION
    app.organisation.save()
    slow = person(language, user=f.reviewer())
    manager = person(language, user=f.manager())
    f.assignment(app, slow, due=today - datetime.timedelta(days=8))
    mail.outbox.clear()
    review_tasks.deadline_reminders()
    [to_manager] = messages_to(manager)
    [to_reviewer] = messages_to(slow)
    check(to_manager, language)
    check(to_reviewer, language)
    assert ORGANISATION in to_manager.body
    assert {"allocations/email/deadline_reminder_manager", "allocations/email/deadline_reminder_reviewer"} <= set(sent)


def test_scheduled_usage_alert(language, sent, settings):
    settings.AIF_SLURM_BACKEND = "mail-metered"
    allocation, _manager, applicant = f.approved_allocation(gpu=100, cpu=1000)
    applicant = person(language, user=applicant)
    grant_services.allocation_start_if_due(allocation=allocation, today=allocation.start_date)
    USED[allocation.slurm_account] = {"gpu_minutes": 100 * 60, "cpu_minutes": 10}
    try:
        pull_usage(site=Site.objects.get(code="zellik"))
    finally:
        USED.clear()
    [alert] = [m for m in messages_to(applicant) if re.search(r"100\s?%", m.subject)]
    check(alert, language)
    assert "allocations/email/usage_threshold" in sent


def test_hand_over_task_to_the_portals_operators(language, sent, settings):
    settings.AIF_SLURM_BACKEND = ""
    Site.objects.filter(code="charleroi").update(provisioning_mode=ProvisioningMode.HANDOVER)
    operator = person(language, user=f.OperatorFactory(totp=True))
    allocation, _manager, _applicant = f.approved_allocation(sites=("charleroi",), users=("alice",))
    sync_allocation(allocation_id=allocation.pk)
    [message] = [m for m in messages_to(operator) if allocation.reference in m.subject]
    check(message, language)
    assert "sacctmgr -i add user alice" in message.body
    assert "allocations/email/handover_task" in sent


def test_storage_hand_over_task_to_the_portals_operators(language, sent, settings):
    settings.AIF_SLURM_BACKEND = ""
    operator = person(language, user=f.OperatorFactory(totp=True))
    allocation, _manager, _applicant = f.approved_allocation(users=("alice",))
    AllocationQuota.objects.filter(allocation=allocation).update(storage_tb=Decimal("12.5"))
    sync_allocation(allocation_id=allocation.pk)
    [message] = [m for m in messages_to(operator) if allocation.reference in m.subject and "12" in m.subject]
    check(message, language)
    assert f"/projects/{allocation.slurm_account}" in message.body
    # the quota in the recipient's number format
    assert {"en": "12.50", "fr": "12,50", "nl": "12,50"}[language] in message.body
    assert "allocations/email/storage_handover_task" in sent


def test_allauth_mails_are_in_the_persons_language(client, run_on_commit, language):
    someone = person(language, email="anne.dhondt@example.be")
    with run_on_commit():
        client.post(reverse("account_reset_password"), {"email": someone.email}, HTTP_HOST="127.0.0.1")
    [message] = mail.outbox
    assert message.subject.startswith(f"[{settings.AIF_PORTAL_NAME}] ")
    assert "Hello from" not in message.body and "127.0.0.1" not in message.body
    assert not ENTITY.search(message.body)
    [(html, _mimetype)] = message.alternatives
    assert f'<html lang="{language}">' in html


def test_every_mail_template_is_covered():
    """The scenarios above send each of these; a mail added later must be added to them."""
    found = {str(p.relative_to(TEMPLATES_DIR))[:-len("_body.txt")]
             for p in TEMPLATES_DIR.glob("*/email/*_body.txt")}
    assert found == {
        "accounts/email/invitation", "accounts/email/notification", "accounts/email/notification_digest",
        "allocations/email/allocation_status", "allocations/email/application_approved",
        "allocations/email/deadline_reminder_manager", "allocations/email/deadline_reminder_reviewer",
        "allocations/email/handover_task", "allocations/email/storage_handover_task",
        "allocations/email/status_changed", "allocations/email/team_invitation", "allocations/email/usage_threshold",
    }
