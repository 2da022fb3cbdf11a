"""The customers of the tests (STYLE.md): acme and globex."""

from __future__ import annotations

from datetime import date

import pytest

from customers.models import Customer
from tests.customers.builders import make_customer


@pytest.fixture
def acme(db: None) -> Customer:
    return make_customer(
        "Acme Analytics GmbH",
        effective=date(2024, 1, 1),
        domains=("acme.com",),
        notice_email="privacy@acme.com",
    )


@pytest.fixture
def globex(db: None) -> Customer:
    return make_customer(
        "Globex Corporation Ltd",
        effective=date(2024, 6, 1),
        domains=("globex.co.uk",),
        notice_email="dpo@globex.co.uk",
    )
