from __future__ import annotations

from django.urls import path

from subprocessors import feeds, views

app_name = "subprocessors"

urlpatterns = [
    path("sub-processors/", views.subprocessor_list, name="list"),
    path("sub-processors.json", views.subprocessor_list_json, name="list_json"),
    path("sub-processors.csv", views.subprocessor_list_csv, name="list_csv"),
    path("sub-processors.pdf", views.subprocessor_list_pdf, name="list_pdf"),
    path("sub-processors/changes.atom", views.public_cache(feeds.ChangesFeed()), name="feed"),
    path("sub-processors/notices/", views.signup, name="signup"),
    path("sub-processors/notices/sent/", views.signup_sent, name="signup_sent"),
    path("sub-processors/notices/confirm/<str:token>/", views.confirm, name="confirm"),
    path("sub-processors/notices/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path(
        "sub-processors/changes/<int:change_id>/object/<str:token>/",
        views.object_to_change,
        name="object",
    ),
]
