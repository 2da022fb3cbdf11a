from __future__ import annotations

from django.apps import AppConfig


class SubprocessorsConfig(AppConfig):
    name = "subprocessors"
    verbose_name = "Sub-processors"
    # Public pages this area offers, listed on the landing page: (url name, title, summary).
    public_links: tuple[tuple[str, str, str], ...] = (
        (
            "subprocessors:list",
            "Sub-processors",
            "Who processes customer data for Harmonyze, where, and the changes announced now.",
        ),
        (
            "subprocessors:signup",
            "Notice Form",
            "Get an email whenever Harmonyze intends to add or replace a sub-processor.",
        ),
    )
