from __future__ import annotations

from django.urls import path

from requests import views

app_name = "requests"

urlpatterns = [
    path("privacy-requests/", views.form, name="form"),
    path("privacy-requests/sent/", views.sent, name="sent"),
    path("privacy-requests/verify/<str:token>/", views.verify, name="verify"),
]
