"""The legal team's desk: every overdue and soon-due deadline of the areas in one list
(DOMAIN.md T5), and the extension point the areas answer.

The core names no area. Each area declares its deadlines and coverage warnings in its own
``<area>/desk.py`` with :func:`register`; ``PortalConfig.ready()`` imports those modules the
way the admin autodiscovers ``admin.py``. A :class:`Source` names its stored due column and
the area's QuerySet method that keeps it open, so the filter is written once, in the area.

Each due column is indexed, with a partial index matching its open filter, so each source is
one ``ORDER BY due LIMIT n`` query plus one exact ``COUNT`` over that index: the page costs the
same number of queries whether 1,000 or 100,000 items are open. The sources are merged in
Python, soonest first.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import django_filters
from django import forms
from django.apps import apps
from django.conf import settings
from django.db.models import F, Model, QuerySet
from django.dispatch import Signal
from django.urls import reverse
from django_filters.widgets import DateRangeWidget

from harmonyze_portal.dates import legal_date

DEFAULT_LIMIT = 200

# R6: the core shows restricted items (``Source.restricted``) and tells their area which
# records it showed, so the area logs each view: sent with ``sender`` the source's model and
# ``user``, ``pks`` and ``path``.
restricted_items_shown = Signal()


@dataclass(frozen=True)
class Source:
    """One kind of deadline, declared by its area: its model, stored due column and the name
    of the area's QuerySet method that keeps it open (the method every other consumer, the
    admin list filter and the tests, calls too)."""

    rule: str
    model: type[Model]
    due_field: str
    open: str
    fields: tuple[str, ...]
    describe: Callable[[dict[str, Any]], str]
    # A datetime column: the legal due date is its date in the legal time zone (T1).
    due_is_datetime: bool = False
    # The lookup from a row to its customer's pk ("pk" for the customer itself), and the
    # column naming it; None: the deadline is not about one customer (S3).
    customer: str | None = "customer"
    customer_name: str | None = "customer__legal_name"
    # Rows that name several customers: their names, by row pk, in one query for all rows.
    customer_names: Callable[[Collection[int]], dict[int, str]] | None = None
    link_field: str = "pk"  # the pk of the record the link opens
    link_model: type[Model] | None = None
    # R6: counsel's alone. Outside the portal (calendar feed, digest, exports) an item of this
    # source is only "1 restricted item — sign in", except in an export by a holder of
    # ``export_permission``; inside, each showing is announced by ``restricted_items_shown``.
    restricted: bool = False
    export_permission: str | None = None
    # How the due date was computed, from the row (its ``fields``): the deadline line (T5).
    explain: Callable[[dict[str, Any]], Any] | None = None
    # The words that go to a calendar service or a mailbox (feed, digest), where ``describe``
    # would carry what should stay in the portal (a legal hold's basis); None: ``describe``.
    describe_outside: Callable[[dict[str, Any]], str] | None = None
    area: str = ""  # the registering area's app label, set by register()

    def open_queryset(self) -> QuerySet[Any]:
        return getattr(self.model._default_manager, self.open)()

    @property
    def permission(self) -> str:
        meta = self.model._meta
        return f"{meta.app_label}.view_{meta.model_name}"

    def url(self, row: dict[str, Any]) -> str:
        meta = (self.link_model or self.model)._meta
        return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[row["link"]])


def label(choices: Any, value: str) -> str:
    """The display label of a TextChoices value, or the value itself if it is not one."""
    try:
        return str(choices(value).label)
    except ValueError:
        return value


@dataclass(frozen=True)
class CoverageWarning:
    rule: str
    text: str
    url: str


# What may leave the team exposed, beyond dated deadlines: (user, today, limit) -> warnings.
WarningCheck = Callable[[Any, date, int], list[CoverageWarning]]


@dataclass(frozen=True)
class Area:
    name: str  # the app label
    label: str
    sources: tuple[Source, ...]
    warnings: tuple[WarningCheck, ...]


_registry: dict[str, Area] = {}


def register(
    name: str,
    *,
    label: str,
    sources: Iterable[Source] = (),
    warnings: Iterable[WarningCheck] = (),
) -> None:
    """Called by ``<area>/desk.py``: the area's deadline sources and coverage warnings."""
    area_sources = tuple(replace(source, area=name) for source in sources)
    for source in area_sources:
        if not callable(getattr(source.model._default_manager, source.open, None)):
            raise TypeError(
                f"{source.rule}: {source.model.__name__}'s manager has no QuerySet method "
                f"{source.open!r}; write the open filter there, once, and name it here."
            )
    _registry[name] = Area(name, label, area_sources, tuple(warnings))


def areas() -> list[Area]:
    """The registered areas in INSTALLED_APPS order."""
    order = [config.label for config in apps.get_app_configs()]
    return sorted(_registry.values(), key=lambda area: order.index(area.name))


def sources() -> list[Source]:
    return [source for area in areas() for source in area.sources]


def area_labels() -> dict[str, str]:
    return {area.name: area.label for area in areas()}


def rules() -> list[str]:
    return list(dict.fromkeys(source.rule for source in sources()))


@dataclass(frozen=True)
class DeadlineItem:
    area: str
    rule: str
    what: str
    customer: str
    due: date
    days_left: int  # negative: overdue by that many days
    url: str
    record: int = 0  # the pk of the record the deadline belongs to (0: a sealed line)
    restricted: bool = False  # R6: counsel's alone (law-enforcement demands)
    count: int = 1  # items it stands for: a sealed line counts every restricted item it hides
    how: str = ""  # how the due date was computed: "terminated 5 Nov 2026 + 90 days = ..."
    outside: str = ""  # the words for a calendar service or a mailbox, when not ``what``
    source: Source | None = field(default=None, compare=False, repr=False)

    @property
    def overdue(self) -> bool:
        return self.days_left < 0

    @property
    def days_overdue(self) -> int:
        return -self.days_left

    @property
    def area_label(self) -> str:
        return area_labels().get(self.area, "Restricted")


def restricted_label(count: int) -> str:
    """R6: all that leaves the portal about demands: "1 restricted item — sign in"."""
    return f"{count} restricted item{'' if count == 1 else 's'} — sign in"


def for_third_parties(items: Iterable[DeadlineItem]) -> list[DeadlineItem]:
    """The items as a calendar service or a mail provider may hold them: sealed (R6), and
    each in its outside words (``Source.describe_outside``), which link back to the portal
    for the rest."""
    return [replace(item, what=item.outside) if item.outside else item for item in sealed(items)]


def sealed(
    items: Iterable[DeadlineItem], keep: Callable[[DeadlineItem], bool] | None = None
) -> list[DeadlineItem]:
    """What may leave the portal (R6): the items as they are, except that the restricted ones
    (but those ``keep`` lets through) due on the same day become one line, "2 restricted items
    — sign in", with no agency, customer, process, country, rule or record id, and a link to
    the sign-in page only."""
    kept: list[DeadlineItem] = []
    hidden: dict[date, list[DeadlineItem]] = {}
    for item in items:
        if item.restricted and not (keep and keep(item)):
            hidden.setdefault(item.due, []).append(item)
        else:
            kept.append(item)
    kept += [
        DeadlineItem(
            area="",
            rule="",
            what=restricted_label(len(group)),
            customer="",
            due=due,
            days_left=group[0].days_left,
            url=reverse("admin:index"),
            restricted=True,
            count=len(group),
        )
        for due, group in hidden.items()
    ]
    return sorted(kept, key=lambda item: item.due)  # stable: the desk's order within a day


@dataclass(frozen=True)
class Desk:
    today: date
    items: list[DeadlineItem]
    counts: dict[str, int]  # per area, every matching item, exactly (the list stops at limit)
    limit: int

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def truncated(self) -> bool:
        return self.total > len(self.items)

    def restricted_records(self) -> dict[type[Model], list[int]]:
        """The restricted records whose data the list shows, per model: logged as viewed (R6)."""
        shown: dict[type[Model], set[int]] = {}
        for item in self.items:
            if item.restricted and item.record and item.source is not None:
                shown.setdefault(item.source.model, set()).add(item.record)
        return {model: sorted(pks) for model, pks in shown.items()}

    def sealed(self, keep: Callable[[DeadlineItem], bool] | None = None) -> Desk:
        """The desk as it may leave the portal (R6), see :func:`sealed`."""
        return replace(self, items=sealed(self.items, keep))

    @property
    def area_counts(self) -> list[tuple[str, int]]:
        return [(area.label, self.counts.get(area.name, 0)) for area in areas()]


@dataclass(frozen=True)
class Query:
    """The window and filters every source is cut to."""

    today: date
    start: date | None
    end: date
    customer: Model | None = None
    area: str | None = None
    rule: str | None = None
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo(settings.TIME_ZONE))

    def wants(self, source: Source) -> bool:
        return (self.area in (None, "", source.area)) and (self.rule in (None, "", source.rule))

    def bound(self, day: date, source: Source, *, upper: bool) -> Any:
        """The column value that corresponds to legal due date ``day``."""
        if source.due_is_datetime:
            # The legal day runs from local midnight to the next (T1).
            return datetime.combine(day + timedelta(days=int(upper)), time.min, tzinfo=self.tz)
        return day

    def filter(self, source: Source) -> QuerySet[Any]:
        due = source.due_field
        queryset = source.open_queryset()
        # A datetime bound is the next legal midnight, excluded; dates are inclusive.
        upper = "lt" if source.due_is_datetime else "lte"
        queryset = queryset.filter(**{f"{due}__{upper}": self.bound(self.end, source, upper=True)})
        if self.start is not None:
            queryset = queryset.filter(
                **{f"{due}__gte": self.bound(self.start, source, upper=False)}
            )
        if self.customer is not None:
            if source.customer is None:
                queryset = queryset.none()  # not about one customer (S3)
            else:
                queryset = queryset.filter(**{source.customer: self.customer.pk})
        return queryset

    def due_date(self, value: Any) -> date:
        return legal_date(value, self.tz) if isinstance(value, datetime) else value


def visible_sources(user: Any, query: Query) -> list[Source]:
    """Sources the user may view (law enforcement: counsel or those granted it, R4)."""
    return [s for s in sources() if query.wants(s) and user.has_perm(s.permission)]


def _rows(source: Source, query: Query, limit: int) -> list[dict[str, Any]]:
    name = source.customer_name
    queryset = (
        query.filter(source)
        .order_by(source.due_field, "pk")
        .values("pk", source.due_field, *([name] if name else []), *source.fields)
    )
    if source.link_field != "pk":
        queryset = queryset.annotate(link=F(source.link_field))
    rows = list(queryset[:limit])
    for row in rows:
        row["due"] = query.due_date(row[source.due_field])
        row["customer"] = (row[name] or "") if name else ""
        row.setdefault("link", row["pk"])
    return rows


def _how(source: Source, row: dict[str, Any]) -> str:
    if source.explain is None:
        return ""
    computation = source.explain(row)
    return str(computation) if computation is not None else ""


def deadline_items(
    user: Any,
    today: date,
    *,
    area: str | None = None,
    customer: Model | None = None,
    rule: str | None = None,
    start: date | None = None,
    end: date | None = None,
    limit: int = DEFAULT_LIMIT,
    count: bool = True,
) -> Desk:
    """Overdue and due-within-the-horizon deadlines the user may see, soonest first (T5).

    Without ``start`` every overdue item is included; ``end`` defaults to today plus
    ``DEADLINE_HORIZON_DAYS``. Two queries per source at most, whatever the number of items:
    the rows (``ORDER BY due LIMIT limit``) and, unless ``count`` is false (the calendar and
    the digest show no counts), an exact count over the source's partial index.
    """
    horizon_end = today + timedelta(days=settings.DEADLINE_HORIZON_DAYS)
    query = Query(
        today=today, start=start, end=end or horizon_end, customer=customer, area=area, rule=rule
    )
    counts = dict.fromkeys(area_labels(), 0)
    collected: list[tuple[Source, dict[str, Any]]] = []
    for source in visible_sources(user, query):
        if count:
            counts[source.area] += query.filter(source).count()
        collected += [(source, row) for row in _rows(source, query, limit)]
    collected.sort(key=lambda pair: (pair[1]["due"], pair[0].area, pair[0].rule, pair[1]["pk"]))
    collected = collected[:limit]
    # Several customers per row (R4): one query per naming function for all its rows, no N+1.
    wanted: dict[Callable[[Collection[int]], dict[int, str]], set[int]] = {}
    for source, row in collected:
        if source.customer_names is not None:
            wanted.setdefault(source.customer_names, set()).add(row["pk"])
    names = {namer: namer(pks) for namer, pks in wanted.items()}
    items = [
        DeadlineItem(
            area=source.area,
            rule=source.rule,
            what=source.describe(row),
            customer=(
                names[source.customer_names].get(row["pk"], "")
                if source.customer_names is not None
                else row["customer"]
            ),
            due=row["due"],
            days_left=(row["due"] - today).days,
            url=source.url(row),
            record=row["pk"],
            restricted=source.restricted,
            source=source,
            how=_how(source, row),
            outside=source.describe_outside(row) if source.describe_outside else "",
        )
        for source, row in collected
    ]
    return Desk(today=today, items=items, counts=counts, limit=limit)


def customer_model() -> type[Model]:
    """The customer the dashboard filters by, named by ``PORTAL_CUSTOMER_MODEL`` (the way
    ``AUTH_USER_MODEL`` names the user), so the core imports no area."""
    return apps.get_model(settings.PORTAL_CUSTOMER_MODEL)


def _customers(request: Any) -> QuerySet[Any]:
    return customer_model()._default_manager.all()


# Dashboard dates outside these bounds mean nothing and overflow date arithmetic near 9999.
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2999, 12, 31)


class DueRangeWidget(DateRangeWidget):
    """Two date pickers, each named: the one "Due between" label reaches the first box only."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        for widget, name in zip(self.widgets, ("Due on or after", "Due on or before"), strict=True):
            widget.input_type = "date"
            widget.format = "%Y-%m-%d"
            widget.attrs = {**widget.attrs, "aria-label": name}


class DeadlineFilterForm(forms.Form):
    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        window = data.get("due")
        for bound in (window.start, window.stop) if window else ():
            if bound is not None and not EARLIEST_DAY <= bound.date() <= LATEST_DAY:
                self.add_error(
                    "due",
                    f"Choose dates between {EARLIEST_DAY.isoformat()} "
                    f"and {LATEST_DAY.isoformat()}.",
                )
                break
        return data


class DeadlineFilter(django_filters.FilterSet):
    """The dashboard's filters; the same form drives the page and its CSV/XLSX export."""

    # Labels are explicit: with no model behind the filters, django-filter cannot derive them.
    # Choices are callables: the areas register after this module is imported.
    area = django_filters.ChoiceFilter(
        label="Area", choices=lambda: list(area_labels().items()), empty_label="All areas"
    )
    customer = django_filters.ModelChoiceFilter(
        label="Customer", queryset=_customers, empty_label="All customers"
    )
    rule = django_filters.ChoiceFilter(
        label="Rule", choices=lambda: [(rule, rule) for rule in rules()], empty_label="All rules"
    )
    due = django_filters.DateFromToRangeFilter(label="Due between", widget=DueRangeWidget)

    class Meta:
        form = DeadlineFilterForm

    def __init__(self, data: Any = None, **kwargs: Any) -> None:
        # The list is built by deadline_items(), not by filtering one queryset.
        kwargs.setdefault("queryset", customer_model()._default_manager.none())
        super().__init__(data, **kwargs)

    def deadline_kwargs(self) -> dict[str, Any]:
        """deadline_items() keyword arguments from the valid form (invalid fields ignored)."""
        form = self.form
        form.is_valid()
        data = getattr(form, "cleaned_data", {})
        window = data.get("due")
        return {
            "area": data.get("area") or None,
            "customer": data.get("customer"),
            "rule": data.get("rule") or None,
            "start": window.start.date() if window and window.start else None,
            "end": window.stop.date() if window and window.stop else None,
        }


def log_restricted_views(user: Any, desk: Desk, path: str) -> None:
    """R6: every showing of a restricted record's data inside the portal is logged, by the
    area that owns it (it answers ``restricted_items_shown``)."""
    for model, pks in desk.restricted_records().items():
        restricted_items_shown.send(sender=model, user=user, pks=pks, path=path)


def for_export(user: Any, desk: Desk) -> Desk:
    """R6: a file leaves the portal; a restricted item travels in it only when the user holds
    its source's export permission (counsel), otherwise it is sealed."""

    def exportable(item: DeadlineItem) -> bool:
        permission = item.source.export_permission if item.source else None
        return bool(permission) and user.has_perm(permission)

    return desk.sealed(keep=exportable)


def coverage_warnings(user: Any, today: date, *, limit: int = 20) -> list[CoverageWarning]:
    """What may leave the team exposed, as each area checks it (A5, S3, C5…), in area order."""
    return [
        warning
        for area in areas()
        for check in area.warnings
        for warning in check(user, today, limit)
    ]
