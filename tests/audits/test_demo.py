"""The audits demo data (`manage.py seed_demo`): covers A2 and A5, and a second run adds nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from audits.models import AuditReport, AuditRequest, ReportKind

pytestmark = pytest.mark.django_db


def test_the_demo_has_an_offerable_plan_and_a_late_one(settings) -> None:
    settings.DEBUG = True
    with time_machine.travel(datetime(2026, 3, 1, 15, 0, tzinfo=UTC), tick=False):
        first = StringIO()
        call_command("seed_demo", stdout=first)
    with time_machine.travel(datetime(2026, 3, 9, 15, 0, tzinfo=UTC), tick=False):
        second = StringIO()
        call_command("seed_demo", stdout=second)

    assert "4 audit records added" in first.getvalue()
    assert "0 audit records added" in second.getvalue()
    soc2 = AuditReport.objects.get(kind=ReportKind.SOC2_TYPE2)
    assert soc2.period_end == date(2025, 11, 1)  # about four months before the first run
    assert AuditReport.objects.filter(kind=ReportKind.ISO27001).count() == 1
    on_time = AuditRequest.objects.get(customer__legal_name="Acme Analytics GmbH")
    late = AuditRequest.objects.get(customer__legal_name="Globex Corporation Ltd")
    assert (on_time.lead_time_met, on_time.type2_report) == (True, soc2)
    assert on_time.entitled is True
    assert late.lead_time_met is False
    assert late.earliest_compliant_start == date(2026, 3, 26)
