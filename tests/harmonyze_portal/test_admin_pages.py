"""Every admin page, walked as counsel over the demo data (issue 15): names read as a lawyer
would say them, and dates and times are written one way.

The walk reads ``admin.site._registry`` and every portal model, so models that later issues
add are checked without touching this file. Names: a model without its own ``verbose_name``
and ``verbose_name_plural``, a field without ``verbose_name``, a list column or form field
without a label is one Django made from a Python name ("Signup ip", "Digest sents", "Dpa").
Third-party models (accounts, lockouts, devices, tasks) keep their packages' names; the index
shows them under "System" with readable ones (tests/harmonyze_portal/test_system.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from io import StringIO
from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.utils import label_for_field
from django.core.exceptions import FieldDoesNotExist
from django.core.management import call_command
from django.db import models
from django.test import Client
from django.urls import reverse

from harmonyze_portal.areas import portal_apps
from tests.conftest import make_staff

SignIn = Callable[[Any], Client]

# A datetime as Python prints it: "2026-12-03 07:39:04.026095+00:00".
RAW_DATETIME = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d:\d\d")
# Django's English formats: "Nov. 5, 2026", "March 5, 2026", "7:39 a.m.".
ENGLISH_DATE = re.compile(
    r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|January|February|March|April|"
    r"June|July|August|September|October|November|December)\.? \d{1,2}, \d{4}\b"
)
ENGLISH_TIME = re.compile(r"\b\d{1,2}(:\d\d)? ?[ap]\.m\.")
# A time without its zone: "2026-12-03 07:39" not followed by a zone abbreviation.
ZONELESS_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d(?!:| [A-Z]{2,5}\b)")


def portal_models() -> list[type[models.Model]]:
    return [
        model
        for model in apps.get_models()
        if model._meta.app_label in portal_apps() and not model.__name__.startswith("Historical")
    ]


def test_every_portal_model_is_named_by_a_person() -> None:
    derived = [
        f"{model._meta.label}.{attr}"
        for model in portal_models()
        for attr in ("verbose_name", "verbose_name_plural")
        if attr not in model._meta.original_attrs
    ]
    assert derived == [], "say it in Meta, as a lawyer would: " + ", ".join(derived)


def test_every_portal_field_is_named_by_a_person() -> None:
    derived = [
        f"{model._meta.label}.{field.name} ({field.verbose_name!r})"
        for model in portal_models()
        for field in model._meta.get_fields()
        if (field.concrete or field.many_to_many)
        and not field.auto_created
        and field._verbose_name is None  # type: ignore[union-attr]
    ]
    assert derived == [], "give each a verbose_name: " + ", ".join(derived)


@pytest.fixture
def demo(transactional_db: None, settings: Any) -> None:
    """The demo data of every area, as `make run` loads it: a row behind each admin page."""
    settings.DEBUG = True
    call_command("seed_demo", stdout=StringIO())
    settings.DEBUG = False


@pytest.fixture
def root(demo: None, signed_in: SignIn) -> Client:
    """A superuser sees every page and every field any role sees."""
    user = make_staff("root", None)
    user.is_superuser = True
    user.save()
    return signed_in(user)


def admin_pages() -> Iterator[tuple[str, type[models.Model], Any]]:
    for model, model_admin in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        yield reverse("admin:{}_{}_changelist".format(*info)), model, model_admin
        yield reverse("admin:{}_{}_add".format(*info)), model, model_admin
        obj = model._default_manager.order_by("pk").first()
        if obj is not None:
            yield (
                reverse("admin:{}_{}_change".format(*info), args=[obj.pk]),
                model,
                model_admin,
            )
            history = "admin:{}_{}_history".format(*info)
            yield reverse(history, args=[obj.pk]), model, model_admin


def derived_label(model: type[models.Model], model_admin: Any, name: Any) -> str | None:
    """The label Django made up for ``name`` shown for ``model``, or None if a person wrote it."""
    if callable(name) or not isinstance(name, str) or name in ("__str__", "action_checkbox"):
        return None
    if model._meta.app_label not in portal_apps() and not is_ours(model_admin):
        return None  # a package's own admin (lockouts, tasks): listed under "System"
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        label, attr = label_for_field(name, model, model_admin, return_attr=True)
        if attr is None or getattr(attr, "short_description", None):
            return None
        if isinstance(attr, property) and getattr(attr.fget, "short_description", None):
            return None
        return str(label)
    if model._meta.app_label not in portal_apps() or not hasattr(field, "_verbose_name"):
        return None
    return None if field._verbose_name is not None else str(field.verbose_name)


def is_ours(model_admin: Any) -> bool:
    return type(model_admin).__module__.split(".")[0] in portal_apps()


def form_labels(form: Any, model: type[models.Model]) -> Iterator[tuple[str, Any]]:
    """Each field of ``form`` a person did not name: a declared form field without a label."""
    model_fields = {field.name for field in model._meta.get_fields()}
    for name, field in form.base_fields.items():
        if name not in model_fields and field.label is None:
            yield name, field


def test_every_admin_page_names_its_columns_and_fields(root: Client) -> None:
    made_up: list[str] = []
    walked = 0
    for url, model, model_admin in admin_pages():
        response = root.get(url)
        if response.status_code == 403 and url.endswith("/add/"):
            continue  # records only a service creates (deliveries, the view log)
        assert response.status_code == 200, url
        walked += 1
        context = response.context
        if "cl" in context:
            for name in context["cl"].list_display:
                if label := derived_label(model, model_admin, name):
                    made_up.append(f"{url} column {name!r} reads {label!r}")
        if "adminform" in context:
            adminform = context["adminform"]
            made_up += [f"{url} field {n!r}" for n, _ in form_labels(adminform.form, model)]
            for name in adminform.readonly_fields:
                if label := derived_label(model, model_admin, name):
                    made_up.append(f"{url} read-only {name!r} reads {label!r}")
            for inline in context.get("inline_admin_formsets", []):
                inline_model = inline.formset.model
                for name in inline.formset.form.base_fields:
                    if label := derived_label(inline_model, inline.opts, name):
                        made_up.append(f"{url} inline {name!r} reads {label!r}")
                for name in inline.readonly_fields:
                    if label := derived_label(inline_model, inline.opts, name):
                        made_up.append(f"{url} inline read-only {name!r} reads {label!r}")
    assert walked > 3 * len(admin.site._registry)
    assert made_up == [], "\n".join(made_up)


def test_every_admin_page_writes_dates_and_times_one_way(root: Client) -> None:
    """2026-11-05 and 2026-11-05 14:39 EST: no "Nov. 5, 2026", no "+00:00" microseconds."""
    found: list[str] = []
    for url, _, _ in admin_pages():
        response = root.get(url)
        if response.status_code == 403 and url.endswith("/add/"):
            continue
        page = response.content.decode()
        # What a person reads: the text, not attributes (a <time datetime="..."> is for
        # machines, an input's hidden initial value is never shown).
        text = re.sub(r"<[^>]*>", " ", re.sub(r"<script\b.*?</script>", " ", page, flags=re.S))
        for pattern in (RAW_DATETIME, ENGLISH_DATE, ENGLISH_TIME, ZONELESS_TIME):
            found += [f"{url}: {m.group(0)!r}" for m in pattern.finditer(text)]
    assert found == [], "\n".join(found)
