"""One audit vocabulary: every recorded action is an AuditAction, and people read its label."""

import ast
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import translation
from drf_spectacular.generators import SchemaGenerator

from allocations.applications.services import STEP_FIELDS
from portal.audit import AuditAction, action_label, audit_record, verify_chain
from portal.models import AuditChainHead, AuditEvent

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("portal", "accounts", "allocations", "compliance")

# Values already stored in audit trails. They are hashed into the chain: one renamed or removed would
# leave its events unverifiable and unlabelled. New actions may be added; these stay as they are.
STORED_VALUES = {
    "organisation.created", "organisation.updated", "invitation.created", "invitation.accepted",
    "invitation.revoked", "membership.role_changed", "membership.removed", "api_token.created",
    "api_token.revoked", "user.erased", "application.created", "application.project_saved",
    "application.resources_saved", "application.model_saved", "application.ethics_issues_saved",
    "application.status_changed", "application.reply_submitted", "team_member.added", "team_member.removed",
    "team_member.confirmed", "attachment.added", "attachment.removed", "review.assigned", "review.coi_declared",
    "review.submitted", "allocation.created", "allocation.status_changed", "change_request.submitted",
    "change_request.decided", "provisioning.handover_done", "usage.threshold_reached", "risk_assessment.saved",
    "ethics_review.opened", "ethics_review.auto_cleared", "ethics_review.decided",
    "ethics_condition.acknowledged", "report.requested", "report.generated", "report.failed", "report.verified",
}


def test_stored_values_are_never_renamed_or_removed():
    assert STORED_VALUES <= set(AuditAction.values)


@pytest.mark.django_db
@pytest.mark.parametrize("action", ["application.statuschanged", "test.event", "", "APPLICATION.CREATED"])
def test_audit_record_refuses_an_action_outside_the_vocabulary(action):
    with pytest.raises(ValueError, match="unknown audit action"), transaction.atomic():
        audit_record(actor=None, action=action, target=("tests.thing", "1"))
    assert not AuditEvent.objects.exists()
    assert AuditChainHead.objects.get().seq == 0


@pytest.mark.django_db
def test_the_stored_value_is_the_enum_value_and_the_chain_verifies():
    by_member = audit_record(actor=None, action=AuditAction.REPORT_VERIFIED, target=("tests.thing", "1"))
    by_value = audit_record(actor=None, action="report.verified", target=("tests.thing", "2"))
    values = list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))
    assert values == ["report.verified", "report.verified"]
    assert type(values[0]) is str
    assert by_member.get_action_display() == by_value.get_action_display() == "Report verified"
    assert verify_chain().ok


@pytest.mark.parametrize("step", sorted(STEP_FIELDS))
def test_every_draft_step_has_its_saved_action(step):
    AuditAction(f"application.{step}_saved")  # applications.application_update_step records this


def test_labels_are_translated_sentences():
    for member in AuditAction:
        assert member.label != member.value
        assert "." not in str(member.label).rstrip(".")
    with translation.override("fr"):
        assert str(action_label("application.status_changed")) == "Statut de la demande modifié"
    with translation.override("nl"):
        assert str(action_label("application.status_changed")) == "Status van de aanvraag gewijzigd"
    assert action_label("no.such_action") == "no.such_action"


def _audit_calls():
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if not isinstance(node, ast.Call):
                    continue
                if getattr(node.func, "id", getattr(node.func, "attr", None)) == "audit_record":
                    yield path.relative_to(REPO), node


def _names_actions(node, assigned: dict[str, ast.expr]) -> bool:
    """An `action=` argument names the vocabulary: AuditAction.X, a choice between two, AuditAction(...),
    or a local variable assigned one of those."""
    if isinstance(node, ast.Attribute):
        return isinstance(node.value, ast.Name) and node.value.id == "AuditAction" and node.attr in AuditAction.names
    if isinstance(node, ast.IfExp):
        return _names_actions(node.body, assigned) and _names_actions(node.orelse, assigned)
    if isinstance(node, ast.Call):
        return isinstance(node.func, ast.Name) and node.func.id == "AuditAction"
    if isinstance(node, ast.Name) and node.id in assigned:
        return _names_actions(assigned[node.id], {})
    return False


def test_every_call_site_passes_an_audit_action():
    """No free string reaches audit_record from the project's code (the function also refuses one)."""
    calls = list(_audit_calls())
    assert len(calls) > 30
    offenders = []
    for path, call in calls:
        tree = ast.parse((REPO / path).read_text())
        assigned = {t.id: n.value for n in ast.walk(tree) if isinstance(n, ast.Assign)
                    for t in n.targets if isinstance(t, ast.Name)}
        action = next((k.value for k in call.keywords if k.arg == "action"), None)
        if action is None or not _names_actions(action, assigned):
            offenders.append(f"{path}:{call.lineno}")
    assert offenders == []


@pytest.mark.django_db
def test_the_api_schema_describes_each_action_with_its_label():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    enum = schema["components"]["schemas"]["AuditActionEnum"]
    assert enum["enum"] == AuditAction.values
    assert "* `application.status_changed` - Application status changed" in enum["description"]
