"""The changelist's date drill-down without scanning the table (issue 16, P5).

Django's ``{% date_hierarchy %}`` runs ``SELECT DISTINCT DATE_TRUNC('year' …)`` (then month,
then day) over the filtered list on every page, and picks its start level from MIN and MAX of
the filtered list: each reads every matching row, so a million rows cost a second per page.
Here the years come from the MIN and MAX of the whole table (two probes of the field's index),
and a year offers its twelve months and a month its days without asking the database. The
links, the template and the filter (a range on the field) are Django's own.
"""

from __future__ import annotations

import calendar
import datetime
from typing import Any

from django import template
from django.contrib.admin.templatetags.base import InclusionAdminNode
from django.contrib.admin.utils import get_fields_from_path
from django.db import models
from django.utils import formats, timezone
from django.utils.text import capfirst

register = template.Library()


def _year_range(cl: Any, field_name: str) -> tuple[int, int] | None:
    bounds = cl.root_queryset.aggregate(first=models.Min(field_name), last=models.Max(field_name))
    if bounds["first"] is None or bounds["last"] is None:
        return None
    first, last = bounds["first"], bounds["last"]
    if isinstance(first, datetime.datetime) and timezone.is_aware(first):
        first, last = timezone.localtime(first), timezone.localtime(last)
    return first.year, last.year


def date_hierarchy(cl: Any) -> dict[str, Any] | None:
    if not cl.date_hierarchy:
        return None
    field_name = cl.date_hierarchy
    field = get_fields_from_path(cl.model, field_name)[-1]
    year_field, month_field, day_field = (
        f"{field_name}__year",
        f"{field_name}__month",
        f"{field_name}__day",
    )
    year = cl.params.get(year_field)
    month = cl.params.get(month_field)
    day = cl.params.get(day_field)

    def link(filters: dict[str, Any]) -> str:
        return str(cl.get_query_string(filters, [f"{field_name}__"]))

    shown: dict[str, Any] = {"show": True, "field_name": field.verbose_name}
    if year and month and day:
        chosen = datetime.date(int(year), int(month), int(day))
        return shown | {
            "back": {
                "link": link({year_field: year, month_field: month}),
                "title": capfirst(formats.date_format(chosen, "YEAR_MONTH_FORMAT")),
            },
            "choices": [{"title": capfirst(formats.date_format(chosen, "MONTH_DAY_FORMAT"))}],
        }
    if year and month:
        days = calendar.monthrange(int(year), int(month))[1]
        return shown | {
            "back": {"link": link({year_field: year}), "title": str(year)},
            "choices": [
                {
                    "link": link({year_field: year, month_field: month, day_field: number}),
                    "title": capfirst(
                        formats.date_format(
                            datetime.date(int(year), int(month), number), "MONTH_DAY_FORMAT"
                        )
                    ),
                }
                for number in range(1, days + 1)
            ],
        }
    if year:
        return shown | {
            "back": {"link": link({}), "title": "All dates"},
            "choices": [
                {
                    "link": link({year_field: year, month_field: number}),
                    "title": capfirst(
                        formats.date_format(
                            datetime.date(int(year), number, 1), "YEAR_MONTH_FORMAT"
                        )
                    ),
                }
                for number in range(1, 13)
            ],
        }
    years = _year_range(cl, field_name)
    return shown | {
        "back": None,
        "choices": [
            {"link": link({year_field: str(number)}), "title": str(number)}
            for number in (range(years[0], years[1] + 1) if years else ())
        ],
    }


@register.tag(name="portal_date_hierarchy")
def date_hierarchy_tag(parser: Any, token: Any) -> InclusionAdminNode:
    return InclusionAdminNode(
        "date_hierarchy",
        parser,
        token,
        func=date_hierarchy,
        template_name="date_hierarchy.html",
        takes_context=False,
    )
