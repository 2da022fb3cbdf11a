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
    # S7: publishing a change that names processing outside the United States (PP 5).
    counsel_only_permissions = ("waive_delivery", "acknowledge_transfer")
    # Each Notice's deliveries are shown on its change; the raw queue is machinery: "System".
    system_models = ("Delivery",)

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from harmonyze_portal import record_tools
        from harmonyze_portal.pagecache import invalidate_public_pages
        from subprocessors import tasks  # noqa: F401 - answers delivery.sending_requested
        from subprocessors.agreements import copies_tool
        from subprocessors.locations import ProcessingLocation
        from subprocessors.models import Change, SubProcessor

        # C6, DPA 5.3: a customer's written request for copies is answered from S7's records.
        record_tools.register("customers.assistancerequest", copies_tool)
        # The public list is served from memory; any change to what it shows drops it (the
        # countries too, S7).
        for model in (SubProcessor, Change, ProcessingLocation):
            for signal in (post_save, post_delete):
                signal.connect(
                    invalidate_public_pages,
                    sender=model,
                    dispatch_uid=f"public-pages-{model.__name__}-{signal is post_save}",
                )
