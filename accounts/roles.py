"""Staff roles are Django groups; this module names them and answers "who may do what"."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    REVIEWER = "reviewer", _("Reviewer")
    ETHICS_OFFICER = "ethics_officer", _("Ethics officer")
    ALLOCATION_MANAGER = "allocation_manager", _("Allocation manager")
    OPERATOR = "operator", _("Operator")


# Group name per role, and the model permissions each group holds (app_label.codename).
ROLE_GROUPS: dict[str, str] = {
    Role.REVIEWER: "Reviewers",
    Role.ETHICS_OFFICER: "Ethics officers",
    Role.ALLOCATION_MANAGER: "Allocation managers",
    Role.OPERATOR: "Operators",
}
GROUP_ROLES = {group: role for role, group in ROLE_GROUPS.items()}

ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.REVIEWER: [],
    Role.ETHICS_OFFICER: ["portal.view_auditevent"],
    Role.ALLOCATION_MANAGER: ["accounts.view_organisation", "accounts.view_membership"],
    Role.OPERATOR: [
        "accounts.view_user", "accounts.view_organisation", "accounts.change_organisation",
        "accounts.view_membership", "accounts.view_invitation", "portal.view_auditevent",
    ],
}


class RoleSet(frozenset):
    """The roles a user holds. Templates ask ``roles.is_reviewer`` and print ``roles.labels``, so that
    no page compares or shows a role's code."""

    @property
    def is_reviewer(self) -> bool:
        return Role.REVIEWER in self

    @property
    def is_ethics_officer(self) -> bool:
        return Role.ETHICS_OFFICER in self

    @property
    def is_allocation_manager(self) -> bool:
        return Role.ALLOCATION_MANAGER in self

    @property
    def is_operator(self) -> bool:
        return Role.OPERATOR in self

    @property
    def labels(self) -> list:
        return [role.label for role in Role if role in self]


def roles_of(user) -> RoleSet:
    """The staff roles a user holds, cached on the user object for the request."""
    if not getattr(user, "is_authenticated", False):
        return RoleSet()
    cached = getattr(user, "_aif_roles", None)
    if cached is not None:
        return cached
    if user.is_superuser:
        roles = RoleSet(Role.values)
    else:
        names = user.groups.values_list("name", flat=True)
        roles = RoleSet(GROUP_ROLES[name] for name in names if name in GROUP_ROLES)
    user._aif_roles = roles
    return roles


def has_role(user, role: str) -> bool:
    return role in roles_of(user)


def is_staff_member(user) -> bool:
    """Anyone with a staff role, or access to the Django admin."""
    return bool(roles_of(user)) or bool(getattr(user, "is_staff", False))
