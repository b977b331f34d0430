from allocations.review.models import AssignmentStatus, ReviewAssignment

# The assignments whose application a reviewer may read: no conflict declared.
CONTENT_READABLE = (AssignmentStatus.ACCEPTED, AssignmentStatus.SUBMITTED)


def can_read_assignment_content(assignment: ReviewAssignment) -> bool:
    """A reviewer reads the application's content only after declaring no conflict of interest;
    before that (or after declaring one) only its reference and organisation."""
    return assignment.status in CONTENT_READABLE
