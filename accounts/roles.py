"""Staff roles are Django groups; this module names them and answers "who may do what"."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from .mfa import mfa_satisfied


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


def held_roles(user) -> RoleSet:
    """The staff roles a user holds, whether or not this sign-in may exercise them (cached on the user
    object). For who to notify and whom to ask for a second factor; never for a permission."""
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


def roles_of(user) -> RoleSet:
    """The staff roles this sign-in may exercise: the roles held, once a second factor was passed
    (accounts.mfa.mfa_satisfied); none before. Every permission of the portal starts here."""
    roles = held_roles(user)
    if roles and not mfa_satisfied(user):
        return RoleSet()
    return roles


def has_role(user, role: str) -> bool:
    return role in roles_of(user)


def is_superuser(user) -> bool:
    """An administrator, once a second factor was passed (as for the staff roles)."""
    return bool(getattr(user, "is_superuser", False)) and mfa_satisfied(user)


def is_staff_member(user) -> bool:
    """Anyone who holds a staff role or has access to the Django admin (second factor or not)."""
    return bool(held_roles(user)) or bool(getattr(user, "is_staff", False))


def staff_mfa_missing(user) -> bool:
    """True when a staff member's sign-in has not passed a second factor (or they have none yet)."""
    return is_staff_member(user) and not mfa_satisfied(user)
