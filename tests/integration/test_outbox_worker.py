"""The e-mail outbox with a real worker on Redis: a message the broker lost is sent by the beat task,
and a message delivered twice is sent once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from portal import emails, tasks
from portal.models import OutgoingEmail
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.slurm, pytest.mark.celery_worker]


def sent(pk: int) -> bool:
    return OutgoingEmail.objects.filter(pk=pk, sent_at__isnull=False).exists()


def test_a_message_lost_by_the_broker_is_sent_by_the_sweeper_once(worker):
    # As left by a broker that lost the queued task: stored with its change, never handed over.
    lost = OutgoingEmail.objects.create(subject="Lost with Redis", body="b", recipients="a@example.org")
    OutgoingEmail.objects.filter(pk=lost.pk).update(created_at=timezone.now() - timedelta(minutes=3))
    tasks.send_pending_emails.delay()
    wait_for(lambda: sent(lost.pk), timeout=60, what="the sweeper to send the lost message")
    assert OutgoingEmail.objects.get(pk=lost.pk).attempts == 1


def test_a_committed_message_is_sent_by_the_worker_and_a_second_delivery_sends_nothing(worker):
    with transaction.atomic():
        email = emails.outbox_add(subject="Sent after the commit", body="b", to=["b@example.org"])
    wait_for(lambda: sent(email.pk), timeout=60, what="the worker to send the message")
    result = tasks.send_email.delay(email.pk)  # a redelivery, as after a worker restart
    wait_for(lambda: f"{result.id}] succeeded" in worker["proc"].log(), timeout=60,
             what="the second delivery to finish")
    assert OutgoingEmail.objects.get(pk=email.pk).attempts == 1
