"""The sub-processors area's open filters (S3, S4), each one QuerySet method."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from subprocessors.models import Change, Objection, ObjectionStatus, SubProcessorStatus
from tests.customers.builders import make_customer
from tests.subprocessors.builders import make_change, make_signup, make_subprocessor

NEW_YORK = ZoneInfo("America/New_York")
PUBLISHED = datetime(2026, 1, 1, tzinfo=NEW_YORK)

pytestmark = pytest.mark.django_db


def test_rule_s3_access_is_pending_while_announced_with_an_access_date() -> None:
    announced = make_subprocessor(
        "Announced Cloud", status=SubProcessorStatus.ANNOUNCED, access_began_on=None
    )
    pending = make_change(announced, published_at=PUBLISHED, notice_date=date(2026, 1, 1))
    held = make_subprocessor(
        "Held Cloud", status=SubProcessorStatus.ANNOUNCED, access_began_on=None
    )
    make_change(held, published_at=PUBLISHED)  # no Notice date yet: the gate holds (S3)
    make_change(make_subprocessor("Active Cloud"), published_at=PUBLISHED)

    assert list(Change.objects.access_pending()) == [pending]


def test_rule_s4_an_objection_awaits_resolution_while_open_with_its_deadline() -> None:
    change = make_change(make_subprocessor("Example Cloud"), published_at=PUBLISHED)
    acme = make_customer("Acme Analytics GmbH")

    def objection(email: str, status: str) -> Objection:
        row = Objection(
            change=change,
            signup=make_signup(email),
            customer=acme,
            received_at=PUBLISHED,
            deadline=date(2026, 1, 9),
            in_time=True,
            reason="We object.",
            status=status,
        )
        row.save()
        return row

    waiting = objection("dpo@acme.com", ObjectionStatus.OPEN)
    objection("legal@acme.com", ObjectionStatus.RESOLVED)
    objection("cto@acme.com", ObjectionStatus.WITHDRAWN)

    assert list(Objection.objects.awaiting_resolution()) == [waiting]
