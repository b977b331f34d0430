from allocations.review.models import AssignmentStatus, ReviewAssignment


def can_read_assignment_content(assignment: ReviewAssignment) -> bool:
    """A reviewer reads the application's content only after declaring no conflict of interest;
    before that (or after declaring one) only its reference and organisation."""
    return assignment.status in (AssignmentStatus.ACCEPTED, AssignmentStatus.SUBMITTED)
