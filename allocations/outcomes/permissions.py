"""Who may write an allocation's final report and outputs: the members of its organisation (owners and
members alike, as for its applications); the allocation managers review. Shared by the pages and the
services."""

from accounts.permissions import is_member_of


def may_file(user, allocation) -> bool:
    return is_member_of(user, allocation.organisation_id)
