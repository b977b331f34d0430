"""Which cluster usernames a team member may have: the portal's floor and each site's own rule.

Every site refuses the system and service accounts of the Slurm engine's list (a project's jobs must
never run as, or be charged to, ``root`` or ``slurm``); on top of that a site sets its naming rule
(``Site.username_pattern``) and its own reserved names (``Site.reserved_usernames``) in its data. The
Slurm engine checks its list again before anything reaches sacctmgr.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from allocations.provisioning.identity.existence import UsernameCheckError, username_exists
from allocations.provisioning.slurm.validation import is_reserved_username

# A POSIX login of 2-32 characters that is more than punctuation: what a site accepts unless its
# data says otherwise.
DEFAULT_USERNAME_PATTERN = r"^(?![_-]+$)[a-z_][a-z0-9_-]{1,31}$"

cluster_username_validator = RegexValidator(
    r"^(?![_-]+\Z)[a-z_][a-z0-9_-]{0,31}\Z",
    _("Use 1-32 characters: lowercase letters, digits, '-' and '_', starting with a letter or '_', "
      "with at least one letter or digit."),
)


def reserved_username_validator(value: str) -> None:
    if is_reserved_username(value):
        raise ValidationError(_("“%(name)s” is reserved for the system; choose another cluster username."),
                              code="reserved", params={"name": value})


def username_pattern_validator(value: str) -> None:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValidationError(_("This is not a valid regular expression: %(error)s"), code="invalid",
                              params={"error": str(exc)}) from exc


def reserved_usernames_validator(value: object) -> None:
    if not isinstance(value, list) or not all(isinstance(name, str) and name for name in value):
        raise ValidationError(_("Give a list of user names, e.g. [\"backup\", \"monitor\"]."), code="invalid")


def check_cluster_username(username: str, sites: Iterable, field: str = "cluster_username") -> None:
    """Refuse ``username`` unless the portal and every site in ``sites`` (``Site`` rows) accept it: a
    ValidationError on ``field``, one message per refusal."""
    errors: list = []
    for validator in (cluster_username_validator, reserved_username_validator):
        try:
            validator(username)
        except ValidationError as exc:
            errors.extend(exc.messages)
    sites = list(sites)
    if not errors:
        errors = [m for m in (site.username_refusal(username) for site in sites) if m]
    if not errors:
        errors = _existence_refusals(username, sites)
    if errors:
        raise ValidationError({field: errors})


def _existence_refusals(username: str, sites: list) -> list:
    """On the sites whose members confirm a username (not the directory sites, where the portal binds the
    account itself), the username must exist: checked as the settings say (identity.existence)."""
    checked = [site for site in sites if site.identity_backend == "confirmed_username"]
    if not checked:
        return []
    try:
        exists = username_exists(username)
    except UsernameCheckError:
        return [_("The clusters could not be asked whether “%(name)s” exists; try again in a few minutes.")
                % {"name": username}]
    if exists is False:
        return [_("“%(name)s” is not an account on %(site)s: give the username the site gave you.")
                % {"name": username, "site": ", ".join(site.name for site in checked)}]
    return []
