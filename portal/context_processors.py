from django.conf import settings


def portal(request):
    return {"portal_languages": settings.LANGUAGES}
