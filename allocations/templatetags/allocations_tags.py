from django import template
from django.conf import settings
from django.utils.formats import number_format

from allocations.aid.services import eur as aid_eur
from allocations.applications.selectors import applicant_dashboard_context
from allocations.terms.selectors import pending_for
from compliance.ai_act.wording import compute_warning_text
from portal.numbers import scientific

register = template.Library()


@register.filter
def compute_warning(warning) -> str:
    """A compute warning of an AI Act result, worded in the active language."""
    return compute_warning_text(warning)


@register.filter
def absolute_url(path: str) -> str:
    """E-mails need full links; services pass paths such as /applications/AIF-2026-0001/."""
    if path and path.startswith("/"):
        return settings.PORTAL_BASE_URL.rstrip("/") + path
    return path


@register.filter
def flop(value) -> str:
    """2.9e21 -> '2.9 × 10²¹ FLOP'; a dash when unknown."""
    return scientific(value, "FLOP")


@register.inclusion_tag("allocations/_dashboard_applications.html", takes_context=True)
def applicant_dashboard(context):
    """The dashboard section: the user's organisations' applications and who is expected to act."""
    request = context.get("request")
    user = getattr(request, "user", None)
    data = applicant_dashboard_context(user) if user is not None and user.is_authenticated else {}
    return {"request": request, **data}


@register.inclusion_tag("allocations/terms/_dashboard_pending.html", takes_context=True)
def terms_pending(context):
    """The dashboard's list of terms of use the person has still to accept, with the deadlines."""
    request = context.get("request")
    user = getattr(request, "user", None)
    return {"terms_pending": pending_for(user) if user is not None and user.is_authenticated else []}
@register.filter
def eur(value) -> str:
    """An amount of money in euro as a person reads it in the active language; "—" when unknown."""
    if value in (None, ""):
        return "—"
    return aid_eur(value)


@register.filter
def headroom_gpu_hours(site_value, amount) -> str:
    """How many GPU-hours of a site the headroom buys (for the decision page), grouped for reading."""
    hours = site_value.gpu_hours_for(amount) if site_value is not None else None
    return "—" if hours is None else number_format(hours, force_grouping=True)
