"""The record_tools extension point: an area offers links on another area's records."""

from __future__ import annotations

from typing import Any

from customers.models import Customer
from harmonyze_portal import record_tools


def test_a_registered_tool_offers_its_links_on_that_model_only(
    acme: Customer, counsel: Any
) -> None:
    def tool(obj: Any, user: Any) -> list[tuple[str, str]]:
        return [(f"About {obj}", f"/x/{obj.pk}/")]

    record_tools.register("Customers.Customer", tool)
    record_tools.register("customers.customer", tool)  # once, however often
    try:
        assert record_tools.tools_for(acme, counsel) == [(f"About {acme}", f"/x/{acme.pk}/")]
        assert record_tools.tools_for(counsel, counsel) == []
        assert record_tools.tools_for(None, counsel) == []
        assert record_tools.tools_for(Customer(legal_name="Unsaved"), counsel) == []
    finally:
        record_tools._registry["customers.customer"].remove(tool)
