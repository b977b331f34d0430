"""Every installed model that may hold personal data has a registered exporter and eraser.

The rule (portal.privacy.field_kind): a field is personal when it is an e-mail or IP address field, or its
name holds "email", "name" (full_name, username, cluster_username, ...) or is "ip"/"*_ip" (identifying),
when it is a TextField (free text someone typed), or when it is a foreign key to the user (a link: who
did what). Identifying and free-text fields must be erased, and every personal field exported, unless
the allow-lists below name the field with the reason. A new model or field the rule flags fails here
until someone decides."""

from __future__ import annotations

import pytest
from django.apps import apps

from portal import privacy as registry
from portal.privacy import FREE_TEXT, IDENTIFYING, LINK, field_kind, personal_fields

# Flagged by the rule, but about no person: neither exported nor erased.
NOT_PERSONAL = {
    ("allocations.SubmissionDeclaration", "text"): "the portal's text of the declaration as the person read it, "
                                                   "not words the person wrote",
    ("auth.Permission", "name"): "a permission's name, set by the code",
    ("auth.Permission", "codename"): "a permission's code, set by the code",
    ("auth.Group", "name"): "a staff role's name (accounts.roles)",
    ("socialaccount.SocialApp", "name"): "the name of a single-sign-on provider",
    ("sessions.Session", "session_data"): "signed session state written by the portal, not by the person; "
                                          "erasure makes the password unusable, which ends every session "
                                          "of the person, and clearsessions removes expired ones",
    ("accounts.Organisation", "legal_name"): "the name of a legal person, not of a natural one",
    ("compliance.Report", "file_name"): "a file name the portal generates",
    ("compliance.Report", "csv_file_name"): "a file name the portal generates",
    ("compliance.Report", "error"): "written by the portal when generation fails",
    ("allocations.StorageProvision", "error"): "written by the portal when the directory refuses a quota (a DN and "
                                              "the directory's message; the owner's login is renamed at erasure "
                                              "by provisioning_records_rename_user)",
    ("allocations.Site", "name"): "reference data",
    ("allocations.Site", "username_pattern"): "a site's naming rule",
    ("allocations.Site", "reserved_usernames"): "system names a site keeps for itself",
    ("allocations.Site", "handover_email"): "a site's functional mailbox for hand-over tasks",
    ("allocations.AccessMode", "name"): "reference data",
    ("allocations.AccessMode", "description"): "reference data",
    ("allocations.ReviewerPool", "name"): "reference data",
    ("allocations.Application", "base_model_name"): "the name of an AI model",
    ("allocations.Attachment", "stored_name"): "a random name the portal gives the file",
    ("admin.LogEntry", "object_id"): "a primary key, as text",
    ("allocations.TermsVersion", "text_en"): "terms of use the operator publishes for everyone: reference data",
    ("allocations.TermsVersion", "text_fr"): "as above",
    ("allocations.TermsVersion", "text_nl"): "as above",
    ("allocations.LinkedEnterprise", "name"): "the name of an enterprise (a legal person) linked to an organisation",
    ("allocations.AidLedgerLine", "beneficiary_name"): "the name of the organisation (a legal person) that received "
                                                       "the aid, as the register must show it",
}

# Kept by the erasure on purpose: the evidence the law asks the portal to keep, whose author is the
# pseudonymised user row (and the person's own row, which user_erase rewrites itself).
KEPT_AT_ERASURE = {
    ("accounts.User", "email"): "user_erase pseudonymises the person's own row, after every eraser ran "
                                "(the erasers look for the name and the address it still holds)",
    ("accounts.User", "full_name"): "as above",
    ("allocations.Application", "abstract"): "the organisation's application: the record a decision rests on",
    ("allocations.Application", "public_summary"): "as above",
    ("allocations.Application", "dual_use_explanation"): "as above",
    ("allocations.Application", "route_to_market"): "as above",
    ("allocations.Attachment", "original_name"): "the organisation's document, as named when uploaded",
    ("allocations.Allocation", "status_reason"): "a manager's reason for suspending or revoking: a decision",
    ("allocations.ReviewAssignment", "coi_statement"): "the conflict declaration the review's fairness rests on",
    ("allocations.Review", "comments_for_committee"): "the evaluation the decision rests on",
    ("allocations.Review", "comments_for_applicant"): "the evaluation the decision rests on",
    ("allocations.ApplicantReply", "text"): "the organisation's reply to the reviews, before the decision",
    ("allocations.Decision", "reasons"): "the decision",
    ("allocations.Decision", "comments_for_applicant"): "the decision",
    ("allocations.ConflictDeclaration", "statement"): "the record that conflicts of interest were checked",
    ("compliance.EthicsReview", "reasons"): "the ethics decision",
    ("compliance.EthicsCondition", "text"): "a condition of the ethics decision",
    ("allocations.FinalReport", "results"): "the organisation's final report: the record the grant is closed on",
    ("allocations.FinalReport", "lessons"): "as above",
    ("allocations.FinalReport", "compute_use"): "as above",
    ("allocations.FinalReport", "ai_act_explanation"): "as above",
    ("allocations.FinalReport", "review_comment"): "the managers' review of the final report: a decision",
    ("allocations.SubmissionOverride", "reason"): "a manager's reason for an exception to the submission block",
    ("allocations.AidLedgerLine", "note"): "an operator's reason for correcting the aid granted: the record the "
                                           "aid register rests on",
    ("compliance.EthicsCondition", "evidence_comment"): "the ethics officer's finding on the evidence a condition "
                                                        "asked for: part of the ethics decision",
}

# Not in the export: secrets, or records about an allocation rather than a person.
NOT_EXPORTED = {
    ("socialaccount.SocialToken", "token"): "a credential: exporting it would hand the account out "
                                           "(the linked account itself is exported)",
    ("socialaccount.SocialToken", "token_secret"): "as above",
    ("account.EmailConfirmation", "email_address"): "a pending confirmation of an address the export lists",
    ("allocations.Allocation", "status_reason"): "a manager's reason about an allocation; the row names no "
                                                 "author (the manager's audit events are exported)",
    ("allocations.SyncAttempt", "error"): "written by the portal and the clusters about an allocation; a "
                                          "username in it is pseudonymised at erasure",
    ("allocations.SiteReadback", "error"): "written by the portal and the cluster about a site; a username in "
                                           "it is pseudonymised at erasure",
}

ALLOW_LISTS = {"not personal": NOT_PERSONAL, "kept at erasure": KEPT_AT_ERASURE, "not exported": NOT_EXPORTED}


def _models():
    return [m for m in apps.get_models() if not m._meta.proxy and m._meta.managed]


def _flagged(skip: dict, kinds: set[str]) -> dict[str, list[str]]:
    flagged = {}
    for model in _models():
        label = model._meta.label
        fields = [name for name, kind in personal_fields(model).items()
                  if kind in kinds and (label, name) not in NOT_PERSONAL and (label, name) not in skip]
        if fields:
            flagged[label] = fields
    return flagged


def test_every_model_with_identifying_data_or_free_text_has_an_eraser():
    erased = registry.erased_models()
    missing = {label: fields for label, fields in _flagged(KEPT_AT_ERASURE, {IDENTIFYING, FREE_TEXT}).items()
               if label not in erased}
    assert not missing, f"register an eraser covering these models, or allow-list the fields with a reason: {missing}"


def test_every_model_with_personal_data_has_an_exporter():
    exported = registry.exported_models()
    missing = {label: fields for label, fields in _flagged(NOT_EXPORTED, {IDENTIFYING, FREE_TEXT, LINK}).items()
               if label not in exported}
    assert not missing, f"register an exporter covering these models, or allow-list the fields: {missing}"


@pytest.mark.parametrize("name", sorted(ALLOW_LISTS))
def test_the_allow_lists_name_fields_the_rule_flags(name):
    """A renamed or removed field must leave the list, so that the list hides nothing."""
    for (label, field_name), reason in ALLOW_LISTS[name].items():
        model = apps.get_model(label)
        assert field_name in personal_fields(model), (label, field_name)
        assert reason.strip()


def test_the_registry_covers_only_installed_models():
    for label in registry.exported_models() | registry.erased_models():
        assert apps.get_model(label) is not None


def test_the_rule_flags_a_team_members_details():
    kinds = personal_fields(apps.get_model("allocations.TeamMember"))
    assert {k: kinds[k] for k in ("full_name", "email", "cluster_username", "user")} == {
        "full_name": IDENTIFYING, "email": IDENTIFYING, "cluster_username": IDENTIFYING, "user": LINK}
    assert field_kind(apps.get_model("portal.AuditEventContext")._meta.get_field("ip_address")) == IDENTIFYING
    assert field_kind(apps.get_model("allocations.Review")._meta.get_field("comments_for_committee")) == FREE_TEXT
    assert field_kind(apps.get_model("allocations.Allocation")._meta.get_field("start_date")) is None
