"""Every (from, to) pair of every workflow with states, through the one transition engine.

Allowed pairs succeed for an actor of an allowed kind and write one audit event; refused pairs raise
and change nothing; the same state twice is a no-op; every other kind of actor is refused and
changes nothing."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.core.exceptions import PermissionDenied

from allocations.applications.models import ApplicationStatus
from allocations.applications.workflow import APPLICATION_WORKFLOW
from allocations.grants.models import AllocationStatus, ChangeKind, ChangeRequest
from allocations.grants.services import change_request_submit
from allocations.grants.workflow import (
    ALLOCATION_WORKFLOW,
    CHANGE_REQUEST_WORKFLOW,
    JOB_POLICY,
    JOBS_ENDED,
    JOBS_HELD,
    JOBS_RUN,
    RUNNABLE,
)
from allocations.outcomes.workflow import FINAL_REPORT_WORKFLOW
from allocations.review.models import ReviewAssignment, ReviewKind
from allocations.review.workflow import ASSIGNMENT_WORKFLOW
from compliance.models import Report, ReportKind
from compliance.workflow import ETHICS_WORKFLOW, REPORT_WORKFLOW
from portal.models import AuditEvent
from portal.workflow import Actor, TransitionError, Workflow, transition
from tests import factories as fr

# The Celery boundary: provisioning is queued on commit, never run in these unit tests.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("queued")]


def _change_request(status: str, member):
    alloc = fr.allocation(status=AllocationStatus.ACTIVE, member=member)
    cr = change_request_submit(actor=member, allocation=alloc, kind=ChangeKind.EXTENSION,
                               payload={"end_date": "2099-01-01"}, justification="More time")
    ChangeRequest.objects.filter(pk=cr.pk).update(status=status)
    return ChangeRequest.objects.get(pk=cr.pk)


def _assignment(status: str, member):
    app = fr.application(status=ApplicationStatus.IN_REVIEW, member=member)
    return ReviewAssignment.objects.create(application=app, reviewer=fr.reviewer(), kind=ReviewKind.TECHNICAL,
                                           status=status, assigned_by=fr.manager())


def _ethics_review(status: str, member):
    return fr.application(status=ApplicationStatus.SUBMITTED, member=member, ethics=status).ethics_review


def _report(status: str, member):
    return Report.objects.create(kind=ReportKind.PERIOD, status=status, requested_by=member,
                                 params={"date_from": "2026-01-01", "date_to": "2026-03-31"})


def _final_report(status: str, member):
    return fr.final_report(fr.ended_allocation(member=member), status=status)


@dataclass(frozen=True)
class Case:
    workflow: Workflow
    make: Callable  # (status, member) -> object in that status, owned by member's organisation


CASES = {
    "application": Case(APPLICATION_WORKFLOW, lambda status, member: fr.application(status=status, member=member)),
    "allocation": Case(ALLOCATION_WORKFLOW, lambda status, member: fr.allocation(status=status, member=member)),
    "change_request": Case(CHANGE_REQUEST_WORKFLOW, _change_request),
    "review_assignment": Case(ASSIGNMENT_WORKFLOW, _assignment),
    "ethics_review": Case(ETHICS_WORKFLOW, _ethics_review),
    "report": Case(REPORT_WORKFLOW, _report),
    "final_report": Case(FINAL_REPORT_WORKFLOW, _final_report),
}


def _actor(kind: Actor | str, member, obj=None):
    return {
        Actor.SYSTEM: lambda: None,
        Actor.APPLICANT: lambda: member,
        Actor.MANAGER: fr.manager,
        # The reviewer a review assignment names; any reviewer elsewhere.
        Actor.REVIEWER: lambda: obj.reviewer if isinstance(obj, ReviewAssignment) else fr.reviewer(),
        Actor.ETHICS_OFFICER: lambda: fr.EthicsOfficerFactory(totp=True),
        Actor.OPERATOR: lambda: fr.OperatorFactory(totp=True),
        "outsider": lambda: fr.UserFactory(),
    }[kind]()


def _events(workflow: Workflow, obj) -> int:
    return AuditEvent.objects.filter(action=workflow.audit_action, object_id=str(obj.pk),
                                     object_type=f"{obj._meta.app_label}.{obj._meta.model_name}").count()


PAIRS = [(name, src, dst) for name, case in CASES.items()
         for src, dst in itertools.product(case.workflow.states.values, repeat=2)]


@pytest.mark.parametrize(("name", "src", "dst"), PAIRS, ids=[f"{n}:{a}->{b}" for n, a, b in PAIRS])
def test_every_pair(name, src, dst, run_on_commit):
    case = CASES[name]
    wf = case.workflow
    member = fr.applicant()
    obj = case.make(src, member)
    allowed = wf.allowed(src, dst)
    if src == dst:
        # Idempotent: already there, nothing happens and nothing is recorded, whoever asks.
        transition(wf, actor=_actor("outsider", member), obj=obj, to=dst)
        assert _events(wf, obj) == 0
    elif not allowed:
        for kind in (*Actor, "outsider"):
            with pytest.raises(TransitionError):
                transition(wf, actor=_actor(kind, member, obj), obj=obj, to=dst)
        assert getattr(type(obj).objects.get(pk=obj.pk), wf.field) == src
        assert _events(wf, obj) == 0
    else:
        kind = sorted(allowed)[0]
        actor = _actor(kind, member, obj)
        with run_on_commit():
            moved = transition(wf, actor=actor, obj=obj, to=dst)
        assert getattr(moved, wf.field) == dst
        assert getattr(type(obj).objects.get(pk=obj.pk), wf.field) == dst
        if (src, dst) in wf.unaudited:
            assert _events(wf, obj) == 0
        else:
            event = AuditEvent.objects.get(action=wf.audit_action, object_id=str(obj.pk))
            assert event.changes[wf.field] == [src, dst]
            assert event.actor_id == (actor.pk if actor else None)
        # A second time is a no-op: nothing more is recorded.
        transition(wf, actor=actor, obj=obj, to=dst)
        assert _events(wf, obj) == (0 if (src, dst) in wf.unaudited else 1)


ALLOWED = [(name, src, dst) for name, case in CASES.items() for (src, dst) in case.workflow.transitions]


@pytest.mark.parametrize(("name", "src", "dst"), ALLOWED, ids=[f"{n}:{a}->{b}" for n, a, b in ALLOWED])
def test_wrong_actor_refused(name, src, dst):
    case = CASES[name]
    wf = case.workflow
    member = fr.applicant()
    obj = case.make(src, member)
    allowed = wf.allowed(src, dst)
    for kind in (*(k for k in Actor if k not in allowed), "outsider"):
        with pytest.raises(PermissionDenied):
            transition(wf, actor=_actor(kind, member, obj), obj=obj, to=dst)
    assert getattr(type(obj).objects.get(pk=obj.pk), wf.field) == src
    assert _events(wf, obj) == 0


@pytest.mark.parametrize("name", CASES)
def test_tables_name_only_states_of_their_enum(name):
    wf = CASES[name].workflow
    for src, dst in wf.transitions:
        assert src in wf.states.values and dst in wf.states.values
        assert src not in wf.terminal, f"{wf.name}: a terminal state has a way out ({src} -> {dst})"


def test_every_allocation_status_says_what_happens_to_the_jobs():
    """provisioning.services.control_jobs acts on this table: a status missing from it would crash a run."""
    assert set(JOB_POLICY) == set(AllocationStatus)
    assert {s for s, policy in JOB_POLICY.items() if policy == JOBS_RUN} == RUNNABLE
    assert JOB_POLICY[AllocationStatus.SUSPENDED] == JOBS_HELD
    assert JOB_POLICY[AllocationStatus.EXPIRED] == JOB_POLICY[AllocationStatus.REVOKED] == JOBS_ENDED
