from __future__ import annotations

from harmonyze_portal import areas


class SubprocessorsConfig(areas.AreaConfig):
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
    # S3: proceeding without an address the Notice could not reach opens the 15-day gate.
    counsel_only_permissions = ("waive_delivery",)
    # Each Notice's deliveries are shown on its change; the raw queue is machinery: "System".
    system_models = ("Delivery",)

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from harmonyze_portal.pagecache import invalidate_public_pages
        from subprocessors import tasks  # noqa: F401 - answers delivery.sending_requested
        from subprocessors.models import Change, SubProcessor

        # The public list is served from memory; any change to what it shows drops it.
        for model in (SubProcessor, Change):
            for signal in (post_save, post_delete):
                signal.connect(
                    invalidate_public_pages,
                    sender=model,
                    dispatch_uid=f"public-pages-{model.__name__}-{signal is post_save}",
                )
