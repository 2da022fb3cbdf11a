"""Correcting a regime's period moves the deadlines of the requests still open under it (R3)."""

from __future__ import annotations

from datetime import date

import pytest

from requests.models import DSRStatus
from tests.requests.builders import make_dsr, regime

pytestmark = pytest.mark.django_db


def test_rule_r3_a_corrected_period_recomputes_open_requests_only(counsel, signed_in) -> None:
    lgpd = regime("lgpd")
    open_request = make_dsr(regime_code="lgpd", received=date(2026, 3, 2))
    closed_request = make_dsr(
        email="old@example.org",
        regime_code="lgpd",
        received=date(2026, 3, 2),
        status=DSRStatus.CLOSED,
    )
    assert open_request.respond_by == date(2026, 3, 17)  # 15 days

    response = signed_in(counsel).post(
        f"/admin/requests/regime/{lgpd.pk}/change/",
        {
            "code": lgpd.code,
            "name": lgpd.name,
            "response_value": "20",
            "response_unit": "days",
            "extension_value": "0",
            "extension_unit": "days",
            "acknowledge_business_days": "",
            "moves_off_weekends": "on",
            "holiday_country": "BR",
            "holiday_subdivision": "",
            "source": lgpd.source,
            "change_reason": "Corrected to the statutory period",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]

    open_request.refresh_from_db()
    closed_request.refresh_from_db()
    assert open_request.respond_by == date(2026, 3, 23)  # 22 March is a Sunday (T4)
    assert closed_request.respond_by == date(2026, 3, 17)
    latest = open_request.history.latest()
    assert latest.history_change_reason == (
        "Recomputed: LGPD (Brazil) changed (Response period, "
        "Deadlines move off weekends and holidays (T4))"
    )
    assert latest.history_user == counsel
