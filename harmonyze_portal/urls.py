from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from harmonyze_portal import (
    calendar_feed,
    compliance_views,
    customer_page,
    history_export,
    outbox,
    rules,
    twofactor,
    views,
)

handler400 = "harmonyze_portal.views.bad_request"
handler403 = "harmonyze_portal.views.permission_denied"
handler404 = "harmonyze_portal.views.page_not_found"
handler500 = "harmonyze_portal.views.server_error"

twofactor_patterns = (
    [
        path("", twofactor.start, name="start"),
        path("verify/", twofactor.verify, name="verify"),
        path("setup/", twofactor.setup, name="setup"),
        path("backup-codes/", twofactor.backup_codes, name="backup_codes"),
        path("sign-out/", twofactor.sign_out, name="sign_out"),
    ],
    "twofactor",
)

urlpatterns = [
    path("", views.landing, name="landing"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("staff/2fa/", include(twofactor_patterns)),
    path("staff/calendar.ics", calendar_feed.feed, name="calendar_feed"),
    path("staff/calendar/", admin.site.admin_view(calendar_feed.manage), name="calendar_manage"),
    path(
        "staff/customers/<int:pk>/",
        admin.site.admin_view(customer_page.customer_page),
        name="customer_page",
    ),
    path("staff/rules/", admin.site.admin_view(rules.rules_page), name="rules"),
    path("staff/files/<path:path>", views.staff_file, name="staff_file"),
    path("staff/outbox/", admin.site.admin_view(outbox.outbox), name="outbox"),
    path("", include("subprocessors.urls")),
    path("", include("audits.urls")),
    path("", include("requests.urls")),
    path(
        "admin/history/export/",
        admin.site.admin_view(history_export.export_view),
        name="history_export",
    ),
    path(
        "admin/compliance/",
        admin.site.admin_view(compliance_views.matrix_view),
        name="compliance_matrix",
    ),
    path(
        "admin/compliance.csv",
        admin.site.admin_view(compliance_views.matrix_csv),
        name="compliance_csv",
    ),
    path(
        "admin/compliance/records/",
        admin.site.admin_view(compliance_views.records_view),
        name="compliance_records",
    ),
    path("admin/", admin.site.urls),
]
