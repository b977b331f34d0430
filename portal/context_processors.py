from django.conf import settings


def portal(request):
    """What every page shows: the languages, and the operator of the service (named in the footer)."""
    return {"portal_languages": settings.LANGUAGES, "portal_operator_name": settings.AIF_OPERATOR_NAME}
