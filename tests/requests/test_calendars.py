"""Deadlines follow their calendars (T4 revised, R3): each regime's holidays from the holidays
library, whether its deadlines move at all, the closure days staff add, and the open deadlines
recomputed (with a history row each) when a closure day or a regime changes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from harmonyze_portal.history import acting_as
from harmonyze_portal.models import PublicHoliday
from requests.models import DataSubjectRequest, DSRStatus, Outcome, Regime
from tests.requests.builders import make_dsr, regime

pytestmark = pytest.mark.django_db

HOLIDAYS = "/admin/harmonyze_portal/publicholiday/"
ST_PATRICKS_DAY = date(2026, 3, 17)  # a Tuesday, an Irish public holiday
MEMORIAL_DAY = date(2026, 5, 25)  # a Monday, a US federal holiday
CHRISTMAS_EVE = date(2026, 12, 24)  # a Thursday, no public holiday in Ireland or the US


def clocks(dsr: DataSubjectRequest) -> tuple[date | None, ...]:
    dsr.refresh_from_db()
    return (dsr.acknowledge_by, dsr.respond_by, dsr.extended_to)


# --- Each regime's calendar and flag ------------------------------------------------------------


def test_rule_t4_the_regimes_name_their_calendars_and_whether_deadlines_move() -> None:
    assert {r.code: (r.holiday_country, r.moves_off_weekends) for r in Regime.objects.all()} == {
        "gdpr": ("IE", True),
        "uk-gdpr": ("GB", True),
        "fadp": ("CH", True),
        "ccpa": ("US", False),
        "us-state": ("US", False),
        "lgpd": ("BR", False),
    }


def test_rule_t4_gdpr_moves_off_an_irish_holiday_and_uk_gdpr_does_not() -> None:
    """GDPR follows Ireland's calendar: one month from Feb 17 lands on St Patrick's Day."""
    gdpr = make_dsr(email="gdpr@example.org", received=date(2026, 2, 17))
    uk = make_dsr(email="uk@example.org", regime_code="uk-gdpr", received=date(2026, 2, 17))
    assert gdpr.respond_by == date(2026, 3, 18)
    assert uk.respond_by == ST_PATRICKS_DAY


def test_rule_t4_ccpa_counts_business_days_on_the_us_calendar_and_ignores_ireland() -> None:
    """CCPA's 10 business days skip Memorial Day, not St Patrick's Day; its 45 days never move;
    and Memorial Day, a working day in Ireland, moves no GDPR deadline."""
    gdpr = make_dsr(email="gdpr@example.org", received=date(2026, 4, 25))
    assert gdpr.respond_by == MEMORIAL_DAY
    around_memorial_day = make_dsr(
        email="may@example.org", regime_code="ccpa", received=date(2026, 5, 15)
    )
    around_st_patrick = make_dsr(
        email="march@example.org", regime_code="ccpa", received=date(2026, 3, 10)
    )
    assert around_memorial_day.acknowledge_by == date(2026, 6, 1)  # not Friday May 29
    assert around_st_patrick.acknowledge_by == date(2026, 3, 24)
    # 45 days from April 10 is Memorial Day itself; the US laws keep the earlier date.
    landing = make_dsr(email="april@example.org", regime_code="ccpa", received=date(2026, 4, 10))
    assert landing.respond_by == MEMORIAL_DAY


def test_rule_t4_lgpd_keeps_a_saturday_deadline() -> None:
    lgpd = make_dsr(regime_code="lgpd", received=date(2026, 3, 20))
    assert lgpd.respond_by == date(2026, 4, 4)  # a Saturday: the earlier date is the safe one


def test_rule_r3_fadp_is_a_regime_row_on_the_swiss_calendar() -> None:
    """30 days, extendable with notice of the reasons; Ascension (May 14) moves it."""
    fadp = regime("fadp")
    assert (fadp.name, fadp.response_value, fadp.response_unit) == (
        "FADP (Switzerland)",
        30,
        "days",
    )
    assert fadp.extension_value > 0
    assert "reasons" in fadp.source
    dsr = make_dsr(regime_code="fadp", received=date(2026, 4, 14))
    assert dsr.respond_by == date(2026, 5, 15)


def test_rule_t4_an_unknown_calendar_or_region_is_refused_with_a_message() -> None:
    gdpr = regime("gdpr")
    gdpr.holiday_country = "XX"
    with pytest.raises(ValidationError) as error:
        gdpr.full_clean()
    assert "not a country of the holidays library" in error.value.message_dict["holiday_country"][0]

    uk = regime("uk-gdpr")
    uk.holiday_subdivision = "XYZ"
    with pytest.raises(ValidationError) as error:
        uk.full_clean()
    assert "ENG, NIR, SCT, WLS" in error.value.message_dict["holiday_subdivision"][0]


# --- Closure days: added, moved, removed -------------------------------------------------------


@pytest.fixture
def received_before_christmas() -> dict[str, DataSubjectRequest]:
    """Requests received before staff close the office on Christmas Eve."""
    return {
        # GDPR: one month from Nov 24 is Thursday Dec 24.
        "gdpr": make_dsr(email="gdpr@example.org", received=date(2026, 11, 24)),
        # CCPA: 10 business days from Dec 14 (Christmas on the US calendar) is Dec 29.
        "ccpa": make_dsr(email="ccpa@example.org", regime_code="ccpa", received=date(2026, 12, 14)),
        "closed": make_dsr(
            email="closed@example.org",
            received=date(2026, 11, 24),
            status=DSRStatus.CLOSED,
            outcome=Outcome.DENIED,
            denial_reason="Identity not verified",
        ),
    }


def test_rule_t4_a_closure_day_added_then_removed_moves_open_deadlines_and_back(
    counsel: Any, signed_in: Callable[[Any], Client], received_before_christmas: dict[str, Any]
) -> None:
    gdpr, ccpa, closed = (received_before_christmas[k] for k in ("gdpr", "ccpa", "closed"))
    assert clocks(gdpr) == (None, CHRISTMAS_EVE, None)
    assert clocks(ccpa)[0] == date(2026, 12, 29)
    client = signed_in(counsel)

    response = client.post(
        f"{HOLIDAYS}add/",
        {"date": "2026-12-24", "name": "Office closed", "change_reason": "Office closure"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    # Christmas Eve closed, Christmas and St Stephen's Day Irish holidays, then the weekend.
    assert clocks(gdpr) == (None, date(2026, 12, 28), None)
    assert clocks(ccpa)[0] == date(2026, 12, 30)  # one business day fewer
    added = gdpr.history.latest()
    assert added.history_change_reason == "Recomputed: closure day 2026-12-24 added"
    assert added.history_user == counsel

    closure = PublicHoliday.objects.get()
    response = client.post(f"{HOLIDAYS}{closure.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302

    assert clocks(gdpr) == (None, CHRISTMAS_EVE, None)
    assert clocks(ccpa)[0] == date(2026, 12, 29)
    reasons = list(gdpr.history.values_list("history_change_reason", flat=True)[:2])
    assert reasons == [
        "Recomputed: closure day 2026-12-24 removed",
        "Recomputed: closure day 2026-12-24 added",
    ]
    assert [row.respond_by for row in gdpr.history.all()[:3]] == [
        CHRISTMAS_EVE,
        date(2026, 12, 28),
        CHRISTMAS_EVE,
    ]
    # A closed request keeps the dates it was closed with: one history row, its creation.
    assert clocks(closed) == (None, CHRISTMAS_EVE, None)
    assert closed.history.count() == 1


def test_rule_t4_the_admin_bulk_delete_of_closure_days_moves_deadlines_back(
    analyst: Any, counsel: Any, signed_in: Callable[[Any], Client], received_before_christmas: Any
) -> None:
    gdpr = received_before_christmas["gdpr"]
    with acting_as("task: load closure days"):
        closure = PublicHoliday(date=CHRISTMAS_EVE, name="Office closed")
        closure.save()
    assert clocks(gdpr)[1] == date(2026, 12, 28)

    response = signed_in(counsel).post(
        HOLIDAYS, {"action": "delete_selected", "_selected_action": [closure.pk], "post": "yes"}
    )
    assert response.status_code == 302
    assert not PublicHoliday.objects.exists()
    assert clocks(gdpr)[1] == CHRISTMAS_EVE
    latest = gdpr.history.latest()
    assert (latest.history_user, latest.history_change_reason) == (
        counsel,
        "Recomputed: closure day 2026-12-24 removed",
    )


def test_rule_t4_a_closure_day_moved_or_removed_from_the_shell_recomputes(
    received_before_christmas: Any,
) -> None:
    gdpr = received_before_christmas["gdpr"]
    closure = PublicHoliday(date=CHRISTMAS_EVE, name="Office closed")
    closure.save()
    assert clocks(gdpr)[1] == date(2026, 12, 28)

    closure.date = date(2026, 12, 31)
    closure.save()
    assert clocks(gdpr)[1] == CHRISTMAS_EVE
    assert gdpr.history.latest().history_change_reason == (
        "Recomputed: closure day 2026-12-24 moved to 2026-12-31"
    )
    assert gdpr.history.latest().history_actor == "system"

    closure.name = "Office closed for the year end"
    closure.save()  # a new name moves nothing
    assert gdpr.history.count() == 3

    PublicHoliday.objects.all().delete()
    assert clocks(gdpr)[1] == CHRISTMAS_EVE
    assert gdpr.history.count() == 3  # it did not move, so no row


# Counsel's alone, like the regimes: a closure day moves deadlines.
@pytest.mark.parametrize(("person", "code"), [("counsel", 302), ("analyst", 403), ("viewer", 403)])
def test_rule_t4_closure_days_by_role(
    everyone: dict[str, Any],
    signed_in: Callable[[Any], Client],
    received_before_christmas: Any,
    person: str,
    code: int,
) -> None:
    gdpr = received_before_christmas["gdpr"]
    response = signed_in(everyone[person]).post(
        f"{HOLIDAYS}add/", {"date": "2026-12-24", "name": "Office closed"}
    )
    assert response.status_code == code
    expected = date(2026, 12, 28) if code == 302 else CHRISTMAS_EVE
    assert clocks(gdpr)[1] == expected


# --- Editing a regime --------------------------------------------------------------------------


def test_rule_t4_a_regime_given_another_calendar_recomputes_its_open_requests(
    received_before_christmas: Any,
) -> None:
    """From the shell (no admin): on the US calendar St Patrick's Day is a working day; with
    the flag off, a Saturday deadline stays."""
    patrick = make_dsr(email="patrick@example.org", received=date(2026, 2, 17))
    saturday = make_dsr(email="saturday@example.org", received=date(2026, 1, 28))
    assert (clocks(patrick)[1], clocks(saturday)[1]) == (date(2026, 3, 18), date(2026, 3, 2))
    gdpr = regime("gdpr")
    with acting_as("task: calendar review"):
        gdpr.holiday_country = "US"
        gdpr.save()

    assert gdpr.recomputed == 1
    assert clocks(patrick)[1] == ST_PATRICKS_DAY
    latest = patrick.history.latest()
    assert (latest.history_actor, latest.history_change_reason) == (
        "task: calendar review",
        "Recomputed: GDPR (EU) changed (Holiday calendar)",
    )
    # Christmas Eve is on neither calendar: unchanged, and no history row is written.
    assert received_before_christmas["gdpr"].history.count() == 1

    gdpr.moves_off_weekends = False
    gdpr.save()
    assert clocks(saturday)[1] == date(2026, 2, 28)
    assert saturday.history.latest().history_change_reason == (
        "Recomputed: GDPR (EU) changed (Deadlines move off weekends and holidays (T4))"
    )
    # Closed requests are never recomputed.
    assert clocks(received_before_christmas["closed"])[1] == CHRISTMAS_EVE


def test_rule_t4_the_regime_admin_changes_the_calendar_and_says_how_many_moved(
    counsel: Any, signed_in: Callable[[Any], Client]
) -> None:
    uk = make_dsr(regime_code="uk-gdpr", received=date(2026, 3, 6))  # due Mon Apr 6
    uk_gdpr = regime("uk-gdpr")
    client = signed_in(counsel)
    response = client.post(
        f"/admin/requests/regime/{uk_gdpr.pk}/change/",
        {
            "code": uk_gdpr.code,
            "name": uk_gdpr.name,
            "response_value": "1",
            "response_unit": "months",
            "extension_value": "2",
            "extension_unit": "months",
            "acknowledge_business_days": "",
            "moves_off_weekends": "on",
            "holiday_country": "GB",
            "holiday_subdivision": "ENG",
            "source": uk_gdpr.source,
            "change_reason": "The ICO is in England",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert "Recomputed the deadlines of 1 open request." in response.content.decode()
    # Easter Monday is a bank holiday in England, not across the UK.
    assert clocks(uk)[1] == date(2026, 4, 7)
    assert uk.history.latest().history_user == counsel

    refused = client.post(
        f"/admin/requests/regime/{uk_gdpr.pk}/change/",
        {
            "code": uk_gdpr.code,
            "name": uk_gdpr.name,
            "response_value": "1",
            "response_unit": "months",
            "extension_value": "2",
            "extension_unit": "months",
            "holiday_country": "ZZ",
            "source": uk_gdpr.source,
        },
    )
    assert refused.status_code == 200
    assert "not a country of the holidays library" in refused.content.decode()
    assert regime("uk-gdpr").holiday_country == "GB"
