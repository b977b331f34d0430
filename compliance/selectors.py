from django.http import Http404

from allocations.models import Application

from .models import EthicsCondition, EthicsReview, EthicsStatus


def ethics_pending():
    return (EthicsReview.objects.filter(status=EthicsStatus.PENDING)
            .select_related("application__organisation", "application__access_mode", "application__risk_assessment")
            .order_by("created_at"))


def ethics_recent_decisions(limit: int = 20):
    return (EthicsReview.objects.exclude(status=EthicsStatus.PENDING)
            .select_related("application__organisation", "decided_by")
            .order_by("-decided_at")[:limit])


def conditions_awaiting_acknowledgement():
    return (EthicsCondition.objects.filter(acknowledged_at=None)
            .select_related("review__application__organisation").order_by("review__decided_at"))


def application_for_ethics(reference: str) -> Application:
    app = (Application.objects.select_related("organisation", "access_mode", "risk_assessment", "ethics_review")
           .prefetch_related("resources__site", "team").filter(reference=reference).first())
    if app is None or not hasattr(app, "ethics_review"):
        raise Http404
    return app
