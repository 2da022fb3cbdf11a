from __future__ import annotations

from django.db import migrations

from harmonyze_portal.search_indexes import trigram_search_indexes


class Migration(migrations.Migration):
    """Every list that searches ``customer__legal_name`` first finds the customers through
    this trigram index on PostgreSQL (harmonyze_portal/admin_lists.py, issue 16 P5s)."""

    dependencies = [
        ("customers", "0004_assistancerequest_c6_assistance_open_and_more"),
    ]

    operations = [trigram_search_indexes("customers_customer", ["legal_name"])]
