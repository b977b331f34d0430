"""Final report statuses: the table of allowed moves (run by portal.workflow)."""

from django.utils.translation import gettext_lazy as _

from accounts.permissions import can_manage, is_member_of
from portal.audit import AuditAction
from portal.workflow import Actor, Workflow, table

from .models import FinalReport
from .models import FinalReportStatus as F

APPLICANT, M = Actor.APPLICANT, Actor.MANAGER

FINAL_REPORT_TRANSITIONS = table({
    (F.DUE, F.DRAFT): APPLICANT,
    (F.DUE, F.SUBMITTED): APPLICANT,
    (F.DRAFT, F.SUBMITTED): APPLICANT,
    (F.MORE_ASKED, F.SUBMITTED): APPLICANT,
    (F.SUBMITTED, F.ACCEPTED): M,
    (F.SUBMITTED, F.MORE_ASKED): M,
})


def final_report_actors(user, report: FinalReport) -> set[Actor]:
    kinds = {Actor.MANAGER} if can_manage(user) else set()
    if is_member_of(user, report.allocation.organisation_id):
        kinds.add(Actor.APPLICANT)
    return kinds


FINAL_REPORT_WORKFLOW = Workflow(
    name="final_report",
    model=FinalReport,
    states=F,
    transitions=FINAL_REPORT_TRANSITIONS,
    actors=final_report_actors,
    audit_action=AuditAction.FINAL_REPORT_STATUS_CHANGED,
    terminal=frozenset({F.ACCEPTED}),
    refused=_("A final report that is %(current)s cannot become %(target)s."),
    forbidden=_("Only members of the organisation file the final report, and only allocation managers "
                "review it."),
    # Starting to write is progress, not a decision (the saved texts are audited by the save itself).
    unaudited=frozenset({(F.DUE, F.DRAFT)}),
)
