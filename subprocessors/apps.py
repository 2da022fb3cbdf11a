from __future__ import annotations

from django.apps import AppConfig


class SubprocessorsConfig(AppConfig):
    name = "subprocessors"
    verbose_name = "Sub-processors"
    # Public pages this area offers, listed on the landing page: (url name, title, summary).
    public_links: tuple[tuple[str, str, str], ...] = ()
