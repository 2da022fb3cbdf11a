from __future__ import annotations

from django.db import migrations

from harmonyze_portal.search_indexes import trigram_search_indexes


class Migration(migrations.Migration):
    """Every list that searches ``customer__legal_name`` first finds the customers through
    this trigram index on PostgreSQL (harmonyze_portal/admin_lists.py, issue 16 P5s)."""

    dependencies = [
        ("customers", "0007_instructions_holds_c8_c9"),
    ]

    operations = [trigram_search_indexes("customers_customer", ["legal_name"])]
