"""The bench's own URLconf (ROOT_URLCONF=bench.urls, set by bench/pages.py only): the product's URLs plus
two bare views, served through the same middleware, as the floor every page is compared with."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import include, path


def bare(request):
    return HttpResponse("ok")


urlpatterns = [
    path("bench/bare/", bare),
    path("bench/bare-auth/", login_required(bare)),
    path("", include("portal.urls")),
]
