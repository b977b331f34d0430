"""What people read about the access modes: on the resources step and on the home page.

Text only, from the modes' data (caps, durations, decision times, who may apply); no queries."""

from __future__ import annotations

from django.contrib.humanize.templatetags.humanize import intcomma
from django.template.defaultfilters import floatformat
from django.utils.text import get_text_list
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import OrganisationType
from accounts.sme import SMEClass
from allocations.catalogue.models import AccessMode
from portal.vocabulary import choice_labels


def mode_summary(mode: AccessMode) -> str:
    """Caps, durations and decision time of a mode, in one sentence."""
    parts = []
    if mode.min_gpu_hours is not None:
        parts.append(_("more than %(n)s GPU-hours") % {"n": intcomma(mode.min_gpu_hours)})
    if mode.max_gpu_hours is not None:
        parts.append(_("up to %(n)s GPU-hours") % {"n": intcomma(mode.max_gpu_hours)})
    if mode.max_cpu_core_hours is not None:
        parts.append(_("up to %(n)s CPU core-hours") % {"n": intcomma(mode.max_cpu_core_hours)})
    if mode.max_storage_tb is not None:
        parts.append(_("up to %(n)s TB of storage") % {"n": floatformat(mode.max_storage_tb, -2)})
    durations = ", ".join(str(d) for d in mode.allowed_durations or [])
    parts.append(_("%(durations)s months") % {"durations": durations})
    parts.append(_("decision within %(n)s working days") % {"n": mode.sla_working_days})
    if mode.requires_call:
        parts.append(_("through a call with a cut-off"))
    return "; ".join(str(p) for p in parts)


def _or_list(values) -> str:
    return str(get_text_list([str(v) for v in values], _("or")))


def mode_facts(mode: AccessMode) -> dict[str, str]:
    """One access mode as the rows of the home page's table: each value a sentence in the reader's language."""
    if mode.min_gpu_hours is not None and mode.max_gpu_hours is not None:
        gpu = _("%(low)s to %(high)s GPU-hours") % {"low": intcomma(mode.min_gpu_hours),
                                                    "high": intcomma(mode.max_gpu_hours)}
    elif mode.min_gpu_hours is not None:
        gpu = _("more than %(n)s GPU-hours") % {"n": intcomma(mode.min_gpu_hours)}
    elif mode.max_gpu_hours is not None:
        gpu = _("up to %(n)s GPU-hours") % {"n": intcomma(mode.max_gpu_hours)}
    else:
        gpu = _("no fixed cap")
    durations = sorted(int(d) for d in mode.allowed_durations or [])
    duration = ngettext("%(list)s month", "%(list)s months", durations[-1] if durations else 0) % {
        "list": _or_list(durations)} if durations else _("as agreed")
    decision = ngettext("within %(n)s working day", "within %(n)s working days", mode.sla_working_days) % {
        "n": mode.sla_working_days}
    if mode.requires_call:
        decision = _("%(decision)s after the call's cut-off") % {"decision": decision}
    who = [str(label) for label in choice_labels(OrganisationType, mode.eligible_org_types)] \
        if mode.eligible_org_types else [_("every kind of organisation")]
    if mode.eligible_sme_classes:
        who.append(_("SME classes: %(classes)s") % {
            "classes": ", ".join(str(c) for c in choice_labels(SMEClass, mode.eligible_sme_classes))})
    return {
        "name": mode.name,
        "gpu_hours": gpu,
        "duration": duration,
        "decision": decision,
        "how": _("to a call, before its cut-off") if mode.requires_call else _("at any time"),
        "who": ", ".join(who),
    }


def eligible_types(modes) -> list[str]:
    """The kinds of organisation at least one mode admits, in the enum's order."""
    codes: set[str] = set()
    for mode in modes:
        codes.update(mode.eligible_org_types or OrganisationType.values)
    return [str(label) for label in choice_labels(OrganisationType, codes)]
