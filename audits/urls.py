from __future__ import annotations

from django.urls import path

from audits import views

app_name = "audits"

urlpatterns = [
    path("audits/plan/", views.plan, name="plan"),
    path("audits/plan/sent/", views.plan_sent, name="plan_sent"),
    path("audits/plan/confirm/<str:token>/", views.confirm, name="confirm"),
]
