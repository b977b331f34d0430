"""Every test data builder, by domain; import them from here: `from tests import factories as f`."""
# ruff: noqa: F401 - this module re-exports every builder

from .accounts import (
    DEFAULT_PASSWORD,
    READ_WRITE,
    STAFF_FACTORIES,
    TOTP_SECRET,
    AdminFactory,
    AllocationManagerFactory,
    EthicsOfficerFactory,
    MembershipFactory,
    OperatorFactory,
    OrganisationFactory,
    OwnerMembershipFactory,
    ReviewerFactory,
    StaffUserFactory,
    UserFactory,
    activate_totp,
    applicant,
    auth,
    belgian_enterprise_number,
    format_belgian,
    french_vat_number,
    give_role,
    manager,
    next_belgian_number,
    org_of,
    other_organisation_user,
    sequence,
    token,
    totp_code,
)
from .aid import (
    de_minimis_mode,
    ledger_line,
    link,
    reference_price,
    self_declare,
)
from .applications import (
    AI_ACT_RESEARCH,
    ETHICS_ALL_NO,
    ETHICS_PERSONAL_DATA,
    HOSTILE_PDFS,
    MODEL,
    PROJECT,
    application,
    attach,
    complete,
    draft,
    encrypted_pdf,
    file_upload,
    fill,
    hostile_pdf,
    mark_submitted,
    minimal_ai_act_answers,
    pdf_bytes,
    pdf_upload,
    submitted,
    truncated_pdf,
)
from .catalogue import (
    committed,
    ensure_capacity,
    ensure_reference_data,
    mode,
    open_call,
    publish_capacity,
    quarters,
    set_capacity,
    site,
    start_soon,
)
from .grants import (
    allocation,
    approved_allocation,
    bare_allocation,
    change_request,
)
from .identity import confirmed_member, ssh_key_line
from .outcomes import ended_allocation, final_report, output
from .provisioning import (
    full_reconcile,
    handover,
    stale_attempt,
    sync_failure,
    usage_and_attempts,
)
from .reports import (
    APPLICANT_COMMENT,
    COMMITTEE_COMMENT,
    CONDITION,
    CONFLICTED_NAME,
    HIGH_RISK_ANSWERS,
    REVIEWER_NAME,
    decisions,
    full_dossier,
    queued_period_report,
    rejected_decision,
    store_assessment,
)
from .review import (
    add_condition,
    assignment,
    awaiting_decision,
    full_scores,
    general_pool,
    in_review,
    in_review_with_plan,
    restricted_pool,
    reviewed,
    reviewer,
    submit_review,
)
from .sessions import sign_in_without_second_factor
from .terms import accept_terms, member_account, terms_version
