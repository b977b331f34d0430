"""The dossier's audit events in words: field names, labels for codes, "old → new" for a move."""

from __future__ import annotations

import pytest
from django.utils import translation

from compliance.reports.events import change_lines
from portal.audit_actions import AuditAction
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_a_status_move_reads_old_to_new_with_labels():
    assert change_lines(AuditAction.APPLICATION_STATUS_CHANGED, {"status": ["in_review", "awaiting_decision"]}) == [
        "Status: In review → Awaiting decision"]
    assert change_lines(AuditAction.ETHICS_REVIEW_DECIDED, {"status": ["pending", "cleared_with_conditions"],
                                                             "conditions": 1}) == [
        "Conditions: 1", "Status: Awaiting ethics review → Cleared with conditions"]


def test_codes_ids_numbers_dates_and_booleans_read_as_words():
    lines = change_lines(AuditAction.REVIEW_SUBMITTED, {"assignment_id": 12, "recommendation": "approve",
                                                         "weighted_score": "86.667", "kind": "technical"})
    assert lines == ["Review assignment number: 12", "Kind: Technical", "Recommendation: Approve",
                     "Weighted score: 86.7"]
    assert change_lines(AuditAction.ALLOCATION_CREATED, {"start_date": "2026-10-20", "slurm_account": "aif_x"}) == [
        "Slurm account: aif_x", "Start date: 2026-10-20"]
    assert change_lines(AuditAction.REVIEW_COI_DECLARED, {"conflict": False}) == ["Conflict of interest: no"]
    assert change_lines(AuditAction.ETHICS_REVIEW_OPENED, {"triggers": ["sector:health",
                                                                        "ethics_issue:personal_data"]}) == [
        "Why: Sensitive sector: Health, Personal data"]


def test_quotas_name_their_sites_and_group_thousands():
    f.ensure_reference_data()
    zellik = f.site("zellik")
    lines = change_lines(AuditAction.APPLICATION_STATUS_CHANGED, {
        "quotas": {str(zellik.pk): {"gpu_hours": "12000", "cpu_core_hours": "4000", "storage_tb": "0"}}})
    assert lines == [f"Quotas: {zellik.name}: CPU core-hours: 4,000, GPU-hours: 12,000, Storage (TB): 0"]


def test_in_french_the_words_and_the_numbers_are_french():
    with translation.override("fr"):
        line = change_lines(AuditAction.APPLICATION_STATUS_CHANGED, {"status": ["in_review", "approved"]})[0]
        assert "in_review" not in line and "approved" not in line and "→" in line
        assert change_lines(AuditAction.USAGE_THRESHOLD_REACHED, {"threshold": 12000})[0].endswith("12\u00a0000")
