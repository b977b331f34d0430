"""E-mail through the outbox: stored with the change, sent once after the commit, sent later when the
broker lost the message, never turned into a server error."""

import logging
from datetime import timedelta
from smtplib import SMTPServerDisconnected

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from allocations.applications.declaration import DECLARATION_VERSION
from allocations.applications.models import ApplicationStatus
from allocations.applications.services import application_submit
from portal import emails, tasks
from portal.models import OutgoingEmail
from tests.factories import MembershipFactory, complete, publish_capacity

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker_down(monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.send_email, "apply_async", refuse)  # what portal.tasking.enqueue calls


def add(subject="Hello", to=("a@example.org",)):
    return emails.outbox_add(subject=subject, body="Body", to=list(to))


def test_the_message_is_stored_with_the_change_and_sent_once_after_the_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        email = add(to=["a@example.org", "b@example.org"])
        assert mail.outbox == []  # nothing leaves before the commit
    assert [m.to for m in mail.outbox] == [["a@example.org", "b@example.org"]]
    email.refresh_from_db()
    assert email.sent_at is not None and email.attempts == 1 and email.claimed_until is None
    assert email.body == "" and mail.outbox[0].body == "Body"  # one-time links do not stay in the table
    # Delivered again (the broker redelivered the task, the sweeper raced it): not sent twice.
    assert emails.deliver(email.pk) is False
    assert len(mail.outbox) == 1


def test_a_rolled_back_change_leaves_no_message(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            add()
            raise RuntimeError("the change failed")
    assert OutgoingEmail.objects.count() == 0 and mail.outbox == []


def test_erased_addresses_are_dropped_and_no_recipient_stores_nothing():
    assert add(to=["erased-7@erased.invalid", ""]) is None
    assert add(to=["erased-7@erased.invalid", "c@example.org"]).to == ["c@example.org"]


def test_broker_down_keeps_the_message_and_the_sweeper_sends_it_later(broker_down, monkeypatch, caplog,
                                                                      django_capture_on_commit_callbacks):
    with caplog.at_level(logging.WARNING, logger="portal.tasking"), \
            django_capture_on_commit_callbacks(execute=True):
        email = add()
    assert "portal.tasks.send_email" in caplog.text and "broker is unreachable" in caplog.text
    assert mail.outbox == []
    assert OutgoingEmail.objects.get(pk=email.pk).sent_at is None
    monkeypatch.undo()  # the broker is back
    assert emails.send_pending() == 0  # too recent: its own task may still be on the way
    OutgoingEmail.objects.filter(pk=email.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    assert emails.send_pending() == 1
    assert [m.subject for m in mail.outbox] == ["Hello"]
    assert emails.send_pending() == 0  # sent: not queued again


def test_a_submission_commits_while_the_broker_is_down_and_its_mail_waits(broker_down, organisation,
                                                                         django_capture_on_commit_callbacks):
    publish_capacity()
    user = MembershipFactory(organisation=organisation).user
    app = complete(user, organisation)
    with django_capture_on_commit_callbacks(execute=True):
        application_submit(actor=user, application=app, declaration_version=DECLARATION_VERSION)
    app.refresh_from_db()
    assert app.status == ApplicationStatus.SUBMITTED
    waiting = OutgoingEmail.objects.filter(sent_at=None)
    assert waiting.count() >= 1 and any(app.reference in e.subject + e.body for e in waiting)


def test_account_mail_goes_through_the_outbox(broker_down, django_capture_on_commit_callbacks, user):
    from accounts.adapter import AccountAdapter

    with django_capture_on_commit_callbacks(execute=True):
        AccountAdapter().send_mail("account/email/password_reset_key", user.email,
                                   {"user": user, "password_reset_url": "http://testserver/reset/x/"})
    assert OutgoingEmail.objects.get().to == [user.email]


def test_a_message_held_by_a_worker_is_not_sent_by_another_until_the_claim_expires():
    email = add()
    OutgoingEmail.objects.filter(pk=email.pk).update(claimed_until=timezone.now() + timedelta(minutes=1),
                                                     created_at=timezone.now() - timedelta(minutes=5))
    assert emails.deliver(email.pk) is False and emails.send_pending() == 0
    OutgoingEmail.objects.filter(pk=email.pk).update(claimed_until=timezone.now() - timedelta(seconds=1))
    assert emails.deliver(email.pk) is True and len(mail.outbox) == 1


def test_an_smtp_error_releases_the_message_records_the_error_and_propagates(monkeypatch):
    email = add()

    def broken(*args, **kwargs):
        raise SMTPServerDisconnected("Connection unexpectedly closed")

    monkeypatch.setattr(emails.EmailMultiAlternatives, "send", broken)
    with pytest.raises(SMTPServerDisconnected):
        emails.deliver(email.pk)
    email.refresh_from_db()
    assert email.sent_at is None and email.claimed_until is None and email.attempts == 1
    assert "Connection unexpectedly closed" in email.last_error
    assert issubclass(SMTPServerDisconnected, tasks.send_email.autoretry_for)  # the task retries with back-off
    monkeypatch.undo()
    assert emails.deliver(email.pk) is True
    email.refresh_from_db()
    assert email.attempts == 2 and email.last_error == ""


def test_a_message_refused_too_often_is_no_longer_swept_and_keeps_its_error():
    email = add()
    OutgoingEmail.objects.filter(pk=email.pk).update(created_at=timezone.now() - timedelta(minutes=5),
                                                     attempts=emails.MAX_ATTEMPTS - 1, last_error="550 no such user")
    assert emails.send_pending() == 1  # below the limit: one more try (it goes through here)
    assert len(mail.outbox) == 1
    OutgoingEmail.objects.filter(pk=email.pk).update(sent_at=None, attempts=emails.MAX_ATTEMPTS,
                                                     last_error="550 no such user")
    assert emails.send_pending() == 0  # at the limit: left for an operator
    assert len(mail.outbox) == 1
    assert OutgoingEmail.objects.get(pk=email.pk).last_error == "550 no such user"


def test_sent_messages_are_purged_after_the_retention(settings):
    settings.EMAIL_OUTBOX_RETENTION_DAYS = 30
    old, recent, unsent = add("old"), add("recent"), add("unsent")
    OutgoingEmail.objects.filter(pk=old.pk).update(sent_at=timezone.now() - timedelta(days=31))
    OutgoingEmail.objects.filter(pk=recent.pk).update(sent_at=timezone.now() - timedelta(days=29))
    OutgoingEmail.objects.filter(pk=unsent.pk).update(created_at=timezone.now() - timedelta(days=90))
    assert emails.purge_sent() == 1
    assert set(OutgoingEmail.objects.values_list("subject", flat=True)) == {"recent", "unsent"}


def test_the_beat_task_queues_what_waits_and_is_scheduled():
    from portal.schedule import BEAT_SCHEDULE

    email = add()
    OutgoingEmail.objects.filter(pk=email.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    assert tasks.send_pending_emails.apply().get() == 1
    assert len(mail.outbox) == 1
    assert BEAT_SCHEDULE["emails-send-pending"]["task"] == "portal.tasks.send_pending_emails"


def test_the_admin_lists_the_outbox_read_only(client):
    from tests.factories import AdminFactory

    client.force_login(AdminFactory(totp=True))
    admin_client = client
    add("Visible in the admin")
    page = admin_client.get("/admin/portal/outgoingemail/")
    assert page.status_code == 200 and b"Visible in the admin" in page.content
    assert admin_client.get("/admin/portal/outgoingemail/add/").status_code == 403
