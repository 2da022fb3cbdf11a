"""An Atom feed of published sub-processor changes (S1, S3), for anyone who follows the list
with a feed reader instead of the Notice Form."""

from __future__ import annotations

from datetime import datetime

from django.contrib.syndication.views import Feed
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from subprocessors.models import Change


class ChangesFeed(Feed[Change, None]):
    feed_type = Atom1Feed
    title = "Harmonyze sub-processor changes"
    subtitle = (
        "Intended additions and replacements of Harmonyze's sub-processors, as announced under "
        "section 5.1 of the Data Processing Addendum."
    )
    author_name = "Harmonyze Privacy & Legal"

    def link(self) -> str:
        return reverse("subprocessors:list")

    def items(self) -> QuerySet[Change]:
        return (
            Change.objects.published()
            .select_related("subprocessor", "replaces")
            .order_by("-published_at", "-pk")[:50]
        )

    def item_title(self, item: Change) -> str:
        return str(item)

    def item_description(self, item: Change) -> str:
        access = (
            f"Earliest access to customer data: {item.earliest_access_on:%Y-%m-%d}."
            if item.earliest_access_on
            else "Earliest access to customer data: the notice is still going out."
        )
        return f"{item.summary}\n\n{access}"

    def item_link(self, item: Change) -> str:
        return f"{reverse('subprocessors:list')}#change-{item.pk}"

    def item_guid(self, item: Change) -> str:
        return f"harmonyze-subprocessor-change-{item.pk}"

    def item_pubdate(self, item: Change) -> datetime | None:
        return item.published_at

    def item_updateddate(self, item: Change) -> datetime | None:
        return item.published_at
