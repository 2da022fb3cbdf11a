"""The compliance matrix: rule by rule, customer by customer, what happened in a period and
whether it was on time (DOMAIN.md T5, H2; issue 17).

The core names no area. Each area declares its *rule events* in ``<area>/compliance.py`` with
:func:`register`: a model, the date that places an event in a period, the lookup to its
customer, and three filters — done on time, late (done late, or not done and overdue), and
still open (not done, not yet due) — written with the stored deadlines the area already keeps.
``PortalConfig.ready()`` imports those modules the way the admin finds ``admin.py``. Each
source is one grouped ``COUNT`` query, whatever the number of records.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.apps import apps
from django.conf import settings
from django.db.models import Count, F, Model, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

OUTCOMES = ("on_time", "late", "open")
OUTCOME_LABELS = {"on_time": "on time", "late": "late", "open": "open"}
NOTHING = Q(pk__in=[])


@dataclass(frozen=True)
class RuleEvents:
    """One kind of event under a rule, declared by its area."""

    key: str  # unique, stable: used in links ("c5-breach-notices")
    rule: str  # "C5"
    clause: str  # "DPA 7"
    what: str  # "Breach notices to each affected customer"
    model: type[Model]
    date_field: str  # the event's date, which places it in a period
    # (today) -> (on time, late, open): the area's filters over stored dates.
    outcomes: Callable[[date], tuple[Q, Q, Q]]
    customer: str | None = "customer"  # the lookup to the customer's pk; None: not per customer
    base: Q = field(default_factory=Q)  # which rows are events at all
    date_is_datetime: bool = False  # a datetime column: its legal date places it (T1)
    # R6: counsel's alone. Only people with the model's view permission see any row, and
    # for a restricted model that is counsel alone; each listing of its records is logged.
    restricted: bool = False
    area: str = ""  # set by register()

    @property
    def permission(self) -> str:
        meta = self.model._meta
        return f"{meta.app_label}.view_{meta.model_name}"

    def events(self, start: date, end: date) -> QuerySet[Any]:
        """The source's events whose date falls from ``start`` to ``end`` (legal days)."""
        if self.date_is_datetime:
            zone = ZoneInfo(settings.TIME_ZONE)
            since = datetime.combine(start, time.min, tzinfo=zone)
            until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone)
            period = Q(**{f"{self.date_field}__gte": since, f"{self.date_field}__lt": until})
        else:
            period = Q(**{f"{self.date_field}__range": (start, end)})
        return self.model._default_manager.filter(self.base, period)

    def outcome_filter(self, outcome: str, today: date) -> Q:
        if outcome not in OUTCOMES:
            return Q()
        return self.outcomes(today)[OUTCOMES.index(outcome)]

    def record_url(self, pk: Any) -> str:
        meta = self.model._meta
        return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[pk])


def done_by_due(done: str, due: str, *, moment: bool = False) -> Callable[[date], tuple[Q, Q, Q]]:
    """The usual outcomes of a stored deadline ``due`` met by the date ``done``: on time when
    done on or before it, late when done after it or not done and past it, else open.
    ``moment``: both are datetimes, and "past it" is measured against now."""

    def outcomes(today: date) -> tuple[Q, Q, Q]:
        reference: Any = timezone.now() if moment else today
        not_done = Q(**{f"{done}__isnull": True})
        return (
            Q(**{f"{done}__isnull": False, f"{done}__lte": F(due)}),
            Q(**{f"{done}__gt": F(due)}) | (not_done & Q(**{f"{due}__lt": reference})),
            not_done & Q(**{f"{due}__gte": reference}),
        )

    return outcomes


def by_flag(flag: str) -> Callable[[date], tuple[Q, Q, Q]]:
    """Outcomes of an event whose timeliness is a stored flag (True: on time, False: late)."""

    def outcomes(today: date) -> tuple[Q, Q, Q]:
        return Q(**{flag: True}), Q(**{flag: False}), NOTHING

    return outcomes


_registry: dict[str, RuleEvents] = {}


def register(area: str, *sources: RuleEvents) -> None:
    """Called by ``<area>/compliance.py``: the area's rule events."""
    for source in sources:
        _registry[source.key] = replace(source, area=area)


def rule_order(rule: str) -> tuple[int, int]:
    return ("TCSRAH".find(rule[0]), int(rule[1:]))


def sources() -> list[RuleEvents]:
    return sorted(_registry.values(), key=lambda source: (rule_order(source.rule), source.key))


def source(key: str) -> RuleEvents | None:
    return _registry.get(key)


def visible_sources(user: Any) -> list[RuleEvents]:
    return [item for item in sources() if user.has_perm(item.permission)]


@dataclass
class Cell:
    events: int = 0
    on_time: int = 0
    late: int = 0
    open: int = 0


@dataclass
class Row:
    source: RuleEvents
    cells: dict[int | None, Cell]

    @property
    def total(self) -> Cell:
        total = Cell()
        for cell in self.cells.values():
            total.events += cell.events
            total.on_time += cell.on_time
            total.late += cell.late
            total.open += cell.open
        return total


@dataclass
class Matrix:
    start: date
    end: date
    rows: list[Row]
    customers: dict[int | None, str]  # the columns: pk -> name (None: no customer)

    def columns(self) -> list[tuple[int | None, str]]:
        named = sorted(
            ((pk, name) for pk, name in self.customers.items() if pk is not None),
            key=lambda item: item[1].casefold(),
        )
        return named + ([(None, "No customer")] if None in self.customers else [])


def customer_model() -> type[Model]:
    return apps.get_model(settings.PORTAL_CUSTOMER_MODEL)


def build(user: Any, start: date, end: date, today: date) -> Matrix:
    """The matrix ``user`` may see: one grouped query per rule event source."""
    rows = []
    seen: set[int | None] = set()
    for item in visible_sources(user):
        on_time, late, still_open = item.outcomes(today)
        counts = {
            "events": Count("pk"),
            "on_time": Count("pk", filter=on_time),
            "late": Count("pk", filter=late),
            "open": Count("pk", filter=still_open),
        }
        events = item.events(start, end)
        if item.customer:
            counted = list(events.values(column=F(item.customer)).annotate(**counts).order_by())
        else:
            counted = [{"column": None, **events.aggregate(**counts)}]
        cells = {}
        for line in counted:
            if line["events"]:
                cells[line["column"]] = Cell(
                    line["events"], line["on_time"], line["late"], line["open"]
                )
                seen.add(line["column"])
        rows.append(Row(item, cells))
    found = customer_model()._default_manager.in_bulk([pk for pk in seen if pk is not None])
    names: dict[int | None, str] = {pk: str(customer) for pk, customer in found.items()}
    if None in seen:
        names[None] = "No customer"
    return Matrix(start, end, rows, names)


def records(
    item: RuleEvents, *, start: date, end: date, today: date, customer: Any, outcome: str
) -> QuerySet[Any]:
    """The records behind one cell of the matrix (``customer`` None: the events with none)."""
    events = item.events(start, end).filter(item.outcome_filter(outcome, today))
    if item.customer:
        lookup = {item.customer: customer} if customer is not None else {item.customer: None}
        events = events.filter(**lookup)
    return events.order_by(item.date_field, "pk").distinct()
