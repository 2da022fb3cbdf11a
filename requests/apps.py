from __future__ import annotations

from django.apps import AppConfig


class RequestsConfig(AppConfig):
    name = "requests"
    verbose_name = "Requests"
    # Public pages this area offers, listed on the landing page: (url name, title, summary).
    public_links: tuple[tuple[str, str, str], ...] = (
        (
            "requests:form",
            "Privacy requests",
            "Ask to see, correct or delete your personal information, or to limit its use.",
        ),
    )

    def ready(self) -> None:
        from requests import access  # noqa: F401  (connects the R6 view log of exports)
