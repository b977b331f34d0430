"""The daily mail limit holds under concurrent requests on PostgreSQL: the organisation's row is locked
while its messages are counted, so parallel team additions never send more than the limit.

Each thread uses its own connection; the test commits for real (`postgres_transactional`)."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import close_old_connections, connections

from accounts.models import AddressedMail
from allocations.applications import services as application_services
from allocations.applications.models import TeamMember
from portal.models import AuditChainHead
from tests import factories as f

pytestmark = [pytest.mark.postgres]

THREADS = 8
LIMIT = 3


def test_parallel_team_additions_never_send_more_than_the_limit(postgres_transactional, settings):
    settings.AIF_INVITE_MAILS_PER_DAY = LIMIT
    f.ensure_reference_data()
    AuditChainHead.objects.get_or_create(id=1)
    applicant = f.applicant()
    drafts = [f.draft(applicant) for _ in range(THREADS)]
    barrier = threading.Barrier(THREADS)
    outcomes: list[str] = [""] * THREADS

    def add(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            application_services.team_member_add(actor=applicant, application=drafts[i], full_name=f"Member {i}",
                                                 email=f"m{i}@example.eu", cluster_username=f"m{i}")
            outcomes[i] = "ok"
        except ValidationError:
            outcomes[i] = "refused"
        except Exception as exc:  # reported by the assertion below
            outcomes[i] = repr(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=add, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    close_old_connections()
    assert sorted(outcomes) == ["ok"] * LIMIT + ["refused"] * (THREADS - LIMIT)
    assert TeamMember.objects.count() == AddressedMail.objects.count() == LIMIT
