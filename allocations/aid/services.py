"""Writes of the aid ledger (docs/aid.md): the value of each grant recorded in the decision's transaction, the
ceiling of de minimis aid checked there, operators' corrections, and the organisation's declarations of
its linked enterprises and of the de minimis aid it received elsewhere.

The rule itself (single undertaking, rolling three years, ceiling) is read by selectors.aid_assess; this
module refuses or records on it, for the decision page, the API and change requests alike."""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _

from accounts.models import Organisation
from accounts.permissions import is_owner
from allocations.aid.choices import CeilingPolicy, LegalBasis
from allocations.aid.models import (
    AidLedgerLine,
    AidSelfDeclaration,
    DeclaredAid,
    LedgerKind,
    LinkedEnterprise,
    LinkRelation,
)
from allocations.aid.selectors import (
    AidAssessment,
    aid_assess,
    can_correct,
    links_snapshot,
    money,
    net_value,
    undertaking_of,
    window_start,
)
from portal.audit import AuditAction, audit_record


def eur(amount: Decimal) -> str:
    """An amount as a person reads it, in the current language (EUR 300,000.00 / 300 000,00 EUR)."""
    return _("EUR %(amount)s") % {"amount": number_format(money(amount), decimal_pos=2, force_grouping=True)}


def _day(day: datetime.date) -> str:
    return date_format(day, "DATE_FORMAT")


# --------------------------------------------------------------------------------- the decision

class AidRefused(ValidationError):
    """A grant the ceiling refuses, or one that waits for the manager's confirmation, with the figures for
    the API (`api_extra`)."""

    def __init__(self, message: str, *, field: str, assessment: AidAssessment):
        super().__init__({field: [message]})
        self.api_extra = {"aid": assessment_figures(assessment)}


def assessment_figures(assessment: AidAssessment) -> dict[str, Any]:
    """The figures of an assessment as strings (Decimal), for the API and the audit event."""
    received = assessment.received
    return {
        "legal_basis": assessment.legal_basis, "granted_on": assessment.on.isoformat(), "currency": "EUR",
        "value": str(assessment.value) if assessment.value is not None else None,
        "ceiling": str(assessment.ceiling) if assessment.is_de_minimis else None,
        "received_in_three_years": str(received.total) if received else None,
        "received_recorded": str(received.ledger) if received else None,
        "received_declared": str(received.declared) if received else None,
        "headroom": str(assessment.headroom) if assessment.headroom is not None else None,
        "single_undertaking_organisations": sorted(assessment.undertaking.organisation_ids)
        if assessment.undertaking else [],
    }


def aid_check(assessment: AidAssessment, *, confirmed: bool = False) -> bool:
    """Refuse a grant that cannot be recorded; returns whether it goes above the ceiling (after a warning the
    manager confirmed). Raises AidRefused (a ValidationError) with the figures otherwise."""
    if not assessment.records:
        return False
    missing = assessment.sites_without_price
    if missing:
        raise AidRefused(_(
            "No reference price is valid on %(day)s for %(sites)s: the value of this grant (%(basis)s) cannot be "
            "recorded, so the decision cannot be taken. An operator must enter the site's reference price "
            "(administration › Reference prices).") % {
            "day": _day(assessment.on), "sites": ", ".join(s.name for s in missing),
            "basis": _label(assessment.legal_basis)}, field="aid", assessment=assessment)
    if not assessment.is_de_minimis or not assessment.exceeds:
        return False
    figures = {"value": eur(assessment.value), "received": eur(assessment.received.total),
               "ceiling": eur(assessment.ceiling), "headroom": eur(assessment.headroom),
               "start": _day(window_start(assessment.on) + datetime.timedelta(days=1)),
               "end": _day(assessment.on)}
    if assessment.policy == CeilingPolicy.REFUSE:
        raise AidRefused(_(
            "This grant is worth %(value)s. The single undertaking received %(received)s of de minimis aid from "
            "%(start)s to %(end)s; with this grant it would exceed the ceiling of %(ceiling)s. At most %(headroom)s "
            "can be granted: lower the quotas.") % figures, field="aid", assessment=assessment)
    if not confirmed:
        raise AidRefused(_(
            "This grant is worth %(value)s. The single undertaking received %(received)s of de minimis aid from "
            "%(start)s to %(end)s; with this grant it would exceed the ceiling of %(ceiling)s (%(headroom)s left). "
            "Lower the quotas, or confirm that the grant is recorded above the ceiling.") % figures,
            field="aid_confirmed", assessment=assessment)
    return True


def _label(basis: str) -> str:
    return str(LegalBasis(basis).label)


def aid_record_grant(*, actor, allocation, quotas: dict[int, dict], kind: str = LedgerKind.GRANT,
                     change_request=None, confirmed: bool = False,
                     on: datetime.date | None = None) -> list[AidLedgerLine]:
    """Value what `quotas` grant to the allocation's organisation and write it to the ledger, one line per
    site; for de minimis aid, refuse (or, as the mode says, warn) above the ceiling. Runs inside the
    decision's transaction (application_approve, change_request_decide), which checked the actor's role: a
    refusal here rolls the whole decision back."""
    on = on or timezone.localdate()
    application = allocation.application
    mode = application.access_mode
    if mode is None or not mode.grants_aid:
        return []
    organisation = allocation.organisation
    undertaking = undertaking_of(organisation)
    # Two decisions for the same single undertaking at once would each see the other's headroom: lock its
    # organisations (in a fixed order, against deadlocks), then read the aid received.
    list(Organisation.objects.select_for_update().filter(pk__in=undertaking.organisation_ids).order_by("pk")
         .values_list("pk", flat=True))
    assessment = aid_assess(organisation=organisation, access_mode=mode, quotas=quotas, on=on)
    over = aid_check(assessment, confirmed=confirmed)
    snapshot = assessment.undertaking.snapshot() if assessment.undertaking else undertaking.snapshot()
    lines = []
    for row in assessment.sites:
        if not (row.gpu_hours or row.cpu_core_hours):
            continue
        lines.append(AidLedgerLine.objects.create(
            organisation=organisation, allocation=allocation, change_request=change_request, kind=kind,
            legal_basis=mode.aid_legal_basis, legal_basis_article=mode.aid_legal_basis_article, granted_on=on,
            site=row.site, gpu_hours=row.gpu_hours, cpu_core_hours=row.cpu_core_hours, price=row.price,
            gpu_hour_price=row.price.gpu_hour_price, cpu_core_hour_price=row.price.cpu_core_hour_price,
            value=row.value, beneficiary_name=organisation.legal_name, beneficiary_vat=organisation.vat_number,
            undertaking=snapshot, over_ceiling=over, recorded_by=actor))
    if lines:
        audit_record(actor=actor, action=AuditAction.AID_RECORDED, target=allocation, changes={
            "lines": [line.pk for line in lines], "kind": kind, "over_ceiling": over,
            "change_request_id": change_request.pk if change_request else None,
            **assessment_figures(assessment)})
    return lines


# --------------------------------------------------------------------------------- corrections

def aid_correction_record(*, actor, line: AidLedgerLine, amount: Decimal | str, reason: str) -> AidLedgerLine:
    """An operator corrects the aid recorded on a line (a wrong price, a grant recorded twice...): a new line,
    dated like the one it corrects, whose value is added to it. The line's value with its corrections never
    goes below zero. Revoked or unused hours are no reason by themselves: the aid was granted."""
    if not can_correct(actor):
        raise PermissionDenied(_("Only operators can correct the aid ledger."))
    reason = (reason or "").strip()
    errors = {}
    try:
        amount = money(Decimal(str(amount)))
    except (InvalidOperation, ValueError):
        errors["amount"] = _("Give an amount in euro, e.g. -1250.00.")
    else:
        if amount == 0:
            errors["amount"] = _("A correction of zero changes nothing.")
    if not reason:
        errors["reason"] = _("Say why the aid recorded is corrected.")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        line = AidLedgerLine.objects.select_for_update().select_related("site", "allocation").get(pk=line.pk)
        if line.kind == LedgerKind.CORRECTION:
            raise ValidationError({"amount": _("Correct the line of the grant, not a correction.")})
        after = net_value(line) + amount
        if after < 0:
            raise ValidationError({"amount": _("The grant would be worth less than nothing: it is now worth "
                                               "%(value)s.") % {"value": eur(net_value(line))}})
        correction = AidLedgerLine.objects.create(
            organisation_id=line.organisation_id, allocation=line.allocation, corrects=line,
            kind=LedgerKind.CORRECTION, legal_basis=line.legal_basis, legal_basis_article=line.legal_basis_article,
            granted_on=line.granted_on, site=line.site, value=amount, beneficiary_name=line.beneficiary_name,
            beneficiary_vat=line.beneficiary_vat, undertaking=line.undertaking, recorded_by=actor, note=reason)
        audit_record(actor=actor, action=AuditAction.AID_CORRECTED, target=line.allocation, changes={
            "line_id": line.pk, "correction_id": correction.pk, "amount": str(amount), "value_after": str(after),
            "reason_length": len(reason)})
    return correction


# --------------------------------------------------------------------------------- the organisation's declarations

def _require_owner(actor, organisation: Organisation) -> None:
    if not is_owner(actor, organisation):
        raise PermissionDenied(_("Only the organisation's owners declare its linked enterprises and aid."))


def linked_enterprise_add(*, actor, organisation: Organisation, relation: str, name: str = "", country: str = "",
                          vat_number: str = "", linked_organisation: Organisation | None = None) -> LinkedEnterprise:
    """Declare an enterprise of the organisation's single undertaking: a portal organisation (by its VAT
    number) or one outside the portal."""
    _require_owner(actor, organisation)
    if relation not in LinkRelation.values:
        raise ValidationError({"relation": _("Choose how the enterprise is linked.")})
    if linked_organisation is not None:
        if linked_organisation.pk == organisation.pk:
            raise ValidationError({"vat_number": _("An organisation is not linked to itself.")})
        name, country, vat_number = (linked_organisation.legal_name, linked_organisation.country,
                                     linked_organisation.vat_number)
    link = LinkedEnterprise(organisation=organisation, relation=relation, linked_organisation=linked_organisation,
                            name=(name or "").strip(), country=(country or "").strip().upper(),
                            vat_number=(vat_number or "").strip())
    link.full_clean(exclude=["organisation"])
    with transaction.atomic():
        if LinkedEnterprise.objects.filter(organisation=organisation).filter(
                **({"linked_organisation": linked_organisation} if linked_organisation else
                   {"name__iexact": link.name, "vat_number": link.vat_number})).exists():
            raise ValidationError({"name": _("This enterprise is already declared.")})
        link.save()
        audit_record(actor=actor, action=AuditAction.AID_LINK_ADDED, target=organisation, changes={
            "link_id": link.pk, "relation": relation, "linked_organisation_id": link.linked_organisation_id})
    return link


def linked_enterprise_remove(*, actor, link: LinkedEnterprise) -> None:
    """Aid already recorded keeps the single undertaking it was recorded with."""
    _require_owner(actor, link.organisation)
    with transaction.atomic():
        audit_record(actor=actor, action=AuditAction.AID_LINK_REMOVED, target=link.organisation, changes={
            "link_id": link.pk, "relation": link.relation, "linked_organisation_id": link.linked_organisation_id})
        link.delete()


def aid_self_declare(*, actor, organisation: Organisation, aids: list[dict[str, Any]]) -> AidSelfDeclaration:
    """The organisation declares the de minimis aid its single undertaking received from any source in the
    previous three years (an empty list: none), with its linked enterprises as they stand now."""
    _require_owner(actor, organisation)
    today = timezone.localdate()
    cleaned, errors = [], {}
    for index, aid in enumerate(aids):
        row = DeclaredAid(amount=aid.get("amount"), granted_on=aid.get("granted_on"),
                          granting_authority=str(aid.get("granting_authority") or "").strip(),
                          received_by=str(aid.get("received_by") or "").strip())
        try:
            row.full_clean(exclude=["declaration"])
            if row.granted_on > today:
                raise ValidationError({"granted_on": _("The date of grant is in the future.")})
        except ValidationError as exc:
            errors.update({f"aids.{index}.{key}": value for key, value in exc.message_dict.items()})
            continue
        cleaned.append(row)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        declaration = AidSelfDeclaration.objects.create(organisation=organisation, declared_by=actor,
                                                        declared_at=timezone.now(),
                                                        links=links_snapshot(organisation))
        for row in cleaned:
            row.declaration = declaration
            row.save()
        audit_record(actor=actor, action=AuditAction.AID_SELF_DECLARED, target=organisation, changes={
            "declaration_id": declaration.pk, "aids": len(cleaned), "links": len(declaration.links),
            "total": str(money(sum((row.amount for row in cleaned), Decimal("0"))))})
    return declaration
