"""A committed change is not turned into a server error when the broker cannot take its e-mail.

Found by bench/drills/faults.py redis (docs/reliability.md, drill 1): with Redis unreachable, an
approval committed and then raised kombu's OperationalError from the e-mail's on-commit callback."""

import logging

import pytest
from kombu.exceptions import OperationalError

from allocations.models import ApplicationStatus
from allocations.services.applications import application_submit
from portal import emails, tasks
from tests.allocations.factories import complete, publish_capacity
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker_down(monkeypatch):
    def refuse(**kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.send_email, "delay", refuse)


def test_queue_email_logs_the_lost_message_instead_of_raising(broker_down, caplog):
    with caplog.at_level(logging.ERROR, logger="portal.emails"):
        assert emails.queue_email(subject="Hello", body="b", to=["a@example.org"]) is False
    assert "e-mail lost" in caplog.text and "Hello" in caplog.text


def test_a_submission_commits_and_returns_while_the_broker_is_down(broker_down, django_capture_on_commit_callbacks,
                                                                     organisation):
    publish_capacity()
    user = MembershipFactory(organisation=organisation).user
    app = complete(user, organisation)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        application_submit(actor=user, application=app)
    assert callbacks  # the status e-mail was attempted after the commit
    app.refresh_from_db()
    assert app.status == ApplicationStatus.SUBMITTED


def test_account_mail_is_queued_through_the_same_path(broker_down, django_capture_on_commit_callbacks, user):
    from accounts.adapter import AccountAdapter

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        AccountAdapter().send_mail("account/email/password_reset_key", user.email,
                                   {"user": user, "password_reset_url": "http://testserver/reset/x/"})
    assert len(callbacks) == 1  # ran, and did not raise
