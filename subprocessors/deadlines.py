"""The DPA's sub-processor clock (DOMAIN.md S3, S4): dates in, dates out."""

from __future__ import annotations

from datetime import date

from harmonyze_portal.dates import add_days

NOTICE_DAYS = 15
OBJECTION_DAYS = 7


def earliest_access(notice_date: date) -> date:
    """S3 (DPA 5.1): the new sub-processor may access Customer Personal Data no earlier than
    the Notice date + 15 days."""
    return add_days(notice_date, NOTICE_DAYS)


def objection_deadline(delivered_on: date) -> date:
    """S4 (DPA 5.1): a customer may object within 7 days of receiving the Notice; the last
    day in time is the delivery date + 7."""
    return add_days(delivered_on, OBJECTION_DAYS)


def objection_in_time(received_on: date, delivered_on: date) -> bool:
    return received_on <= objection_deadline(delivered_on)
