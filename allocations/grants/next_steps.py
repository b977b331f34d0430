"""What an organisation must do next with a granted allocation, in order, for the dashboard: the ethics
conditions (acknowledge, upload the evidence asked for), team members still to confirm, then anything a
later rule adds (terms of use to accept), and once nothing waits: connect and run a first job.

Each kind of step is a provider registered here: `(allocations, user) -> {allocation id: [NextStep]}`,
reading all the allocations at once (a fixed number of queries whatever their number). A new rule
(terms of use, say) registers its own provider with `register_next_step`; the dashboard takes the
first step of the lowest order."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from allocations.applications.models import TeamMember
from allocations.grants.models import Allocation
from compliance.models import EthicsCondition, EvidenceStatus

# Where each built-in kind of step stands in the order; a provider added later picks its own place
# (terms of use: between the team and the first job).
ORDER_CONDITIONS = 10
ORDER_EVIDENCE = 15
ORDER_TEAM = 20
ORDER_TERMS = 30


@dataclass(frozen=True)
class NextStep:
    order: int
    text: str
    link: str


Provider = Callable[[list[Allocation], object], dict[int, list[NextStep]]]
_PROVIDERS: list[Provider] = []


def register_next_step(provider: Provider) -> Provider:
    """Add a provider of steps (usable as a decorator); registering the same one twice adds it once."""
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)
    return provider


def _page(allocation: Allocation, anchor: str) -> str:
    return f"{reverse('grants:allocation_detail', args=[allocation.reference])}#{anchor}"


@register_next_step
def condition_steps(allocations: list[Allocation], user) -> dict[int, list[NextStep]]:
    by_application = {a.application_id: a for a in allocations}
    counts: dict[int, dict[str, int]] = {}
    for application_id, acknowledged_at, evidence_status in EthicsCondition.objects.filter(
            review__application_id__in=by_application).values_list(
            "review__application_id", "acknowledged_at", "evidence_status"):
        count = counts.setdefault(application_id, {"ack": 0, "upload": 0, "waiting": 0})
        count["ack"] += acknowledged_at is None
        count["upload"] += evidence_status in (EvidenceStatus.MISSING, EvidenceStatus.REJECTED)
        count["waiting"] += evidence_status == EvidenceStatus.SUBMITTED
    steps: dict[int, list[NextStep]] = {}
    for application_id, count in counts.items():
        allocation = by_application[application_id]
        rows = steps.setdefault(allocation.pk, [])
        if count["ack"]:
            rows.append(NextStep(ORDER_CONDITIONS, ngettext(
                "Acknowledge the ethics condition.", "Acknowledge the %(n)s ethics conditions.", count["ack"])
                % {"n": count["ack"]}, _page(allocation, "conditions-heading")))
        if count["upload"]:
            rows.append(NextStep(ORDER_EVIDENCE, ngettext(
                "Upload the document an ethics condition asks for.",
                "Upload the %(n)s documents the ethics conditions ask for.", count["upload"])
                % {"n": count["upload"]}, _page(allocation, "conditions-heading")))
        elif count["waiting"]:
            rows.append(NextStep(ORDER_EVIDENCE, _("Wait for the ethics officer to examine your evidence."),
                                 _page(allocation, "conditions-heading")))
    return steps


@register_next_step
def team_steps(allocations: list[Allocation], user) -> dict[int, list[NextStep]]:
    by_application = {a.application_id: a for a in allocations}
    waiting: dict[int, int] = {}
    for application_id in TeamMember.objects.filter(application_id__in=by_application, confirmed_at=None,
                                                    erased_at=None).values_list("application_id", flat=True):
        waiting[application_id] = waiting.get(application_id, 0) + 1
    return {by_application[app_id].pk: [NextStep(ORDER_TEAM, ngettext(
        "%(n)s team member has not confirmed yet: send the link again if needed.",
        "%(n)s team members have not confirmed yet: send the link again if needed.", n) % {"n": n},
        _page(by_application[app_id], "team-heading"))] for app_id, n in waiting.items()}


def next_steps(allocations: Iterable[Allocation], user) -> dict[int, list[NextStep]]:
    """Every step waiting for each allocation, in order; an allocation with none gets the step that
    follows from its state (wait for the start date, or connect and run a first job)."""
    allocations = [a for a in allocations if not a.is_ended]
    found: dict[int, list[NextStep]] = {a.pk: [] for a in allocations}
    if not allocations:
        return found
    for provider in _PROVIDERS:
        for pk, steps in provider(allocations, user).items():
            found.setdefault(pk, []).extend(steps)
    for allocation in allocations:
        found[allocation.pk].sort(key=lambda step: step.order)
        if not found[allocation.pk]:
            found[allocation.pk].append(_when_nothing_waits(allocation))
    return found


def _when_nothing_waits(allocation: Allocation) -> NextStep:
    if allocation.is_approved:
        return NextStep(100, _("Nothing to do: the accounts open on %(date)s.") % {
            "date": date_format(allocation.start_date, "DATE_FORMAT")}, _page(allocation, "connect-heading"))
    return NextStep(100, _("Connect to the clusters and run a first job."), _page(allocation, "connect-heading"))
