"""What a site's ``backend_options`` (database, editable in the admin) may hold.

The database must never choose what the portal executes or where its credentials go: executables, a
command prefix (``ssh host``), the environment, the slurm.conf, URLs, key files and the JWT user come
from the settings only (``allocations.provisioning.services.backend_for``). The field keeps tuning that
cannot run anything or send a secret elsewhere."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# option -> the type it must have
HARMLESS_OPTIONS: dict[str, tuple[type, ...]] = {
    "timeout": (int, float),
    "use_load": (bool,),
    "fallback_to_sacctmgr": (bool,),
    "token_lifespan": (int,),
}


def backend_options_problems(value: object) -> list[str]:
    """Why ``value`` is not a safe ``backend_options`` (one message per option), or []."""
    if not isinstance(value, dict):
        return [str(_("Give the options as a JSON object, e.g. {\"timeout\": 60}."))]
    problems = []
    for key in sorted(value):
        kinds = HARMLESS_OPTIONS.get(key)
        if kinds is None:
            problems.append(str(_("“%(option)s” cannot be set here: executables, command prefixes, environment, "
                                  "URLs and keys come from the portal's settings. Allowed: %(allowed)s.") % {
                "option": key, "allowed": ", ".join(HARMLESS_OPTIONS)}))
            continue
        item = value[key]
        if isinstance(item, bool) and bool not in kinds or not isinstance(item, kinds):
            problems.append(str(_("“%(option)s” has a value of the wrong kind.") % {"option": key}))
        elif not isinstance(item, bool) and isinstance(item, (int, float)) and not 0 < item <= 3600:
            problems.append(str(_("“%(option)s” must be between 1 and 3600.") % {"option": key}))
    return problems


def backend_options_validator(value: object) -> None:
    problems = backend_options_problems(value)
    if problems:
        raise ValidationError(problems, code="unsafe")
