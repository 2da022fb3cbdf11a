"""`manage.py recheck_audit_entitlement`: stored A1 checks brought up to the revised rule."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command

from audits.models import AuditRequest
from audits.services import ENTITLEMENT_RECHECK
from customers.models import Customer
from harmonyze_portal.history import bulk_update_with_history
from tests.audits.builders import make_audit_request

pytestmark = pytest.mark.django_db


def recheck() -> str:
    out = StringIO()
    call_command("recheck_audit_entitlement", stdout=out)
    return out.getvalue()


def test_a_check_stored_under_the_old_rule_is_rechecked_once_with_a_reason(
    acme: Customer,
) -> None:
    first = make_audit_request(acme, received=date(2025, 3, 1), start=date(2025, 4, 15))
    anniversary = make_audit_request(acme, received=date(2026, 3, 1), start=date(2026, 4, 15))
    # What the old rule stored: an audit received within the twelve months before.
    anniversary.entitled, anniversary.previous_audit = False, first
    bulk_update_with_history([anniversary], AuditRequest, ["entitled", "previous_audit"])

    output = recheck()

    anniversary.refresh_from_db()
    assert (anniversary.entitled, anniversary.previous_audit) == (True, None)
    row = anniversary.history.first()
    assert (row.history_change_reason, row.history_actor) == (
        ENTITLEMENT_RECHECK,
        "command: recheck_audit_entitlement",
    )
    assert "1 audit request rechecked." in output
    assert "0 audit requests rechecked." in recheck()
    assert first.history.count() == 1
