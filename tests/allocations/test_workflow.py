"""Every (from, to) pair of the application and allocation state machines.

Allowed pairs succeed for the right actor and write one audit event; refused pairs raise and change
nothing; the wrong actor is refused and changes nothing."""

from __future__ import annotations

import itertools

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.roles import Role
from allocations.lifecycle import ALLOCATION_TRANSITIONS
from allocations.models import Allocation, AllocationStatus, Application, ApplicationStatus
from allocations.services.lifecycle import allocation_transition
from allocations.services.transitions import TransitionError, application_transition
from allocations.workflow import APPLICATION_TRANSITIONS
from portal.models import AuditEvent
from tests import factories as shared

from . import factories_review as fr

pytestmark = pytest.mark.django_db

APP_PAIRS = list(itertools.product(ApplicationStatus.values, repeat=2))
ALLOC_PAIRS = list(itertools.product(AllocationStatus.values, repeat=2))
ACTOR_KINDS = ["applicant", "manager", "system", "reviewer", "outsider"]


@pytest.fixture(autouse=True)
def _no_provisioning(monkeypatch):
    """The Celery boundary: provisioning is queued on commit, never run in these unit tests."""
    calls = []
    monkeypatch.setattr("allocations.tasks.provision_allocation.delay", lambda *a, **k: calls.append(a))
    return calls


def _actor(kind: str, member):
    return {"applicant": lambda: member, "manager": fr.manager, "system": lambda: None,
            "reviewer": lambda: fr.reviewer(), "outsider": lambda: shared.UserFactory()}[kind]()


def _events(obj, action):
    return AuditEvent.objects.filter(action=action, object_id=str(obj.pk)).count()


# --- applications ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("src", "dst"), APP_PAIRS, ids=[f"{a}->{b}" for a, b in APP_PAIRS])
def test_application_pair(src, dst, run_on_commit):
    member = fr.applicant()
    app = fr.application(status=src, member=member)
    role = APPLICATION_TRANSITIONS.get((src, dst))
    before = _events(app, "application.status_changed")
    if src == dst:
        # Idempotent: already there, nothing happens and nothing is recorded.
        application_transition(actor=_actor("manager", member), application=app, to=dst)
        assert _events(app, "application.status_changed") == before
    elif role is None:
        with pytest.raises(TransitionError):
            application_transition(actor=_actor("manager", member), application=app, to=dst)
        with pytest.raises(TransitionError):
            application_transition(actor=member, application=app, to=dst)
        assert Application.objects.get(pk=app.pk).status == src
        assert _events(app, "application.status_changed") == before
    else:
        actor = _actor(role, member)
        with run_on_commit():
            application_transition(actor=actor, application=app, to=dst)
        assert Application.objects.get(pk=app.pk).status == dst
        event = AuditEvent.objects.get(action="application.status_changed", object_id=str(app.pk))
        assert event.changes["status"] == [src, dst]
        assert event.actor_id == (actor.pk if actor else None)


ALLOWED_APP = sorted(APPLICATION_TRANSITIONS.items())


@pytest.mark.parametrize(("pair", "role"), ALLOWED_APP, ids=[f"{a}->{b}" for (a, b), _ in ALLOWED_APP])
def test_application_wrong_actor_refused(pair, role):
    src, dst = pair
    member = fr.applicant()
    app = fr.application(status=src, member=member)
    for kind in ACTOR_KINDS:
        if kind == role:
            continue
        with pytest.raises(PermissionDenied):
            application_transition(actor=_actor(kind, member), application=app, to=dst)
    assert Application.objects.get(pk=app.pk).status == src
    assert _events(app, "application.status_changed") == 0


# --- allocations ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("src", "dst"), ALLOC_PAIRS, ids=[f"{a}->{b}" for a, b in ALLOC_PAIRS])
def test_allocation_pair(src, dst, run_on_commit):
    alloc = fr.allocation(status=src)
    role = ALLOCATION_TRANSITIONS.get((src, dst))
    boss = fr.manager()
    if src == dst:
        allocation_transition(actor=boss, allocation=alloc, to=dst, reason="same")
        assert _events(alloc, "allocation.status_changed") == 0
    elif role is None:
        with pytest.raises(ValidationError):
            allocation_transition(actor=boss, allocation=alloc, to=dst, reason="not allowed")
        fresh = Allocation.objects.get(pk=alloc.pk)
        assert (fresh.status, fresh.desired_version, fresh.sync_state) == (src, alloc.desired_version,
                                                                          alloc.sync_state)
        assert _events(alloc, "allocation.status_changed") == 0
    else:
        actor = None if role == "system" else boss
        with run_on_commit():
            allocation_transition(actor=actor, allocation=alloc, to=dst, reason="a reason")
        assert Allocation.objects.get(pk=alloc.pk).status == dst
        event = AuditEvent.objects.get(action="allocation.status_changed", object_id=str(alloc.pk))
        assert event.changes["status"] == [src, dst]


ALLOWED_ALLOC = sorted(ALLOCATION_TRANSITIONS.items())


@pytest.mark.parametrize(("pair", "role"), ALLOWED_ALLOC, ids=[f"{a}->{b}" for (a, b), _ in ALLOWED_ALLOC])
def test_allocation_wrong_actor_refused(pair, role):
    src, dst = pair
    member = fr.applicant()
    alloc = fr.allocation(status=src, member=member)
    wrong = [member, fr.reviewer(), shared.UserFactory(), shared.EthicsOfficerFactory(),
             shared.StaffUserFactory(roles=[Role.OPERATOR])]
    if role == "manager":
        wrong.append(None)  # the beat tasks cannot suspend or revoke
    for actor in wrong:
        with pytest.raises(PermissionDenied):
            allocation_transition(actor=actor, allocation=alloc, to=dst, reason="a reason")
    assert Allocation.objects.get(pk=alloc.pk).status == src
    assert _events(alloc, "allocation.status_changed") == 0
