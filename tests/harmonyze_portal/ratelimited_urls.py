"""A public POST endpoint for the rate-limit tests: it writes a row when it runs."""

from __future__ import annotations

from datetime import date, timedelta

from django.http import HttpRequest, HttpResponse
from django.urls import path

from harmonyze_portal.history import PUBLIC_FORM, acting_as
from harmonyze_portal.models import PublicHoliday
from harmonyze_portal.ratelimit import public_post_rate_limit


@public_post_rate_limit("probe")
def probe(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        with acting_as(PUBLIC_FORM):
            count = PublicHoliday.objects.count()
            PublicHoliday.objects.create(date=date(2030, 1, 1) + timedelta(days=count), name="x")
        return HttpResponse("saved", status=201)
    return HttpResponse("form")


urlpatterns = [path("probe/", probe)]
