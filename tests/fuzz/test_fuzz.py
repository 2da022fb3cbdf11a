"""No input gives a 5xx (issue 13): random requests to every public form and link and to the staff
dashboard's and changelists' query strings.

A few hundred requests by default; ``FUZZ_EXAMPLES=10000`` for the full run (README, "Tests").
Each request is one hypothesis example: text with control characters, NUL, emoji and very long
values, undecodable bytes in query strings and bodies, real link tokens cut short or lengthened.
A 4xx is an answer; only a 5xx (an exception, with the test client) fails the test.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote, quote_from_bytes, urlencode

import pytest
from django.contrib import admin
from django.core import mail
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from subprocessors import tokens
from subprocessors.models import SignupStatus, SubProcessorStatus
from tests.conftest import sign_in
from tests.subprocessors.builders import make_change, make_signup, make_subprocessor

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "200"))
LINK = re.compile(r"https?://[^/\s]+(/(?:sub-processors|privacy-requests|audits)/[^\s\"'<>(),]+)")

# Text as a person or a script may type it: controls, NUL, right-to-left marks, emoji; no lone
# surrogates (a browser cannot send them). Mostly short, sometimes far over any max_length.
# What earlier fuzzing found 500s with, and their neighbours.
SPECIAL = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "a\x00b",
        "\x1b[31m",
        "=1+1",
        "-1",
        "0",
        "1e999",
        "99999999999999999999",
        "9999-12-31",
        "0001-01-01",
        "2026-02-30",
        "../",
        "customers/",
    ]
)
TEXT = st.one_of(
    st.text(st.characters(codec="utf-8"), max_size=40),
    st.text(st.characters(codec="utf-8"), min_size=200, max_size=5000),
    SPECIAL,
)
RAW = st.binary(max_size=200)


@dataclass
class Probe:
    method: str
    path: str
    data: dict[str, Any] | None = None
    body: bytes | None = None
    content_type: str = ""
    as_staff: bool = False

    def send(self, public: Client, staff: Client) -> Any:
        client = staff if self.as_staff else public
        if self.body is not None:
            return client.generic(self.method, self.path, self.body, self.content_type)
        if self.method == "POST":
            return client.post(self.path, self.data or {})
        return client.get(self.path)


@dataclass
class World:
    """Real links (tokens the portal issued) and the staff pages with their parameters."""

    links: list[str] = field(default_factory=list)
    changelists: dict[str, list[str]] = field(default_factory=dict)


def changelist_parameters(model_admin: Any) -> list[str]:
    names = ["q", "o", "p", "e", "all", "_to_field", "_popup"]
    for entry in model_admin.list_filter:
        if isinstance(entry, str):
            names += [f"{entry}__exact", f"{entry}__id__exact", f"{entry}__isnull"]
        elif isinstance(entry, tuple | list):
            names += [f"{entry[0]}__gte", f"{entry[0]}__lt", f"{entry[0]}__isnull"]
        else:
            names.append(getattr(entry, "parameter_name", "") or "filter")
    if model_admin.date_hierarchy:
        names += [f"{model_admin.date_hierarchy}__{part}" for part in ("year", "month", "day")]
    return names


def harvest_links(send: Callable[[], Any], capture: Any) -> list[str]:
    mail.outbox.clear()
    with capture(execute=True):
        response = send()
    assert response.status_code < 400, response.content[:500]
    found = [path for message in mail.outbox for path in LINK.findall(message.body)]
    assert found, "the form sent no link"
    return found


@pytest.fixture
def world(db: None, settings: Any, django_capture_on_commit_callbacks: Any) -> World:
    capture = django_capture_on_commit_callbacks
    settings.RATELIMIT_ENABLE = False
    settings.PUBLIC_POST_RATE = "1000000/s"
    client = Client()
    links = harvest_links(
        lambda: client.post("/sub-processors/notices/", {"email": "fuzz@acme.example"}), capture
    )
    links += harvest_links(
        lambda: client.post(
            "/privacy-requests/",
            {
                "name": "Jane Fuzz",
                "email": "jane@fuzz.example",
                "right": "access",
                "regime": "gdpr",
                "details": "A copy, please.",
            },
        ),
        capture,
    )
    links += harvest_links(
        lambda: client.post(
            "/audits/plan/",
            {
                "customer_name": "Fuzz GmbH",
                "name": "Dana Fuzz",
                "email": "dana@fuzz.example",
                "scope": "Access control",
                "proposed_start": "2099-04-15",
                "duration_days": "3",
                "self_audit": "on",
                "ground": "annual",
            },
        ),
        capture,
    )
    signup = make_signup("dpo@fuzz.example", status=SignupStatus.ACTIVE)
    change = make_change(
        make_subprocessor("Fuzzmail", status=SubProcessorStatus.ANNOUNCED),
        published_at=datetime(2026, 3, 2, 14, tzinfo=UTC),
        notice_date=date(2026, 3, 2),
    )
    objection = tokens.objection_token(signup.pk, change.pk)
    links += [
        f"/sub-processors/changes/{change.pk}/object/{objection}/",
        f"/sub-processors/notices/unsubscribe/{tokens.unsubscribe_token(signup.pk)}/",
    ]
    changelists = {
        f"/admin/{model._meta.app_label}/{model._meta.model_name}/": changelist_parameters(
            model_admin
        )
        for model, model_admin in admin.site._registry.items()
    }
    return World(links=links, changelists=changelists)


def query_string(keys: list[str]) -> st.SearchStrategy[str]:
    # Known keys with edge values most of the time: random keys are ignored by most pages.
    pair = st.tuples(st.one_of(st.sampled_from(keys), TEXT), st.one_of(SPECIAL, TEXT))
    return st.one_of(
        st.lists(pair, max_size=4).map(lambda pairs: urlencode(pairs)),
        RAW.map(lambda raw: quote_from_bytes(raw, safe="=&")),
    )


def link_variants(world: World) -> st.SearchStrategy[str]:
    """A real link as sent, cut short, lengthened, or with its token replaced."""
    real = st.sampled_from(world.links)
    return st.one_of(
        real,
        st.tuples(real, st.integers(min_value=1, max_value=200)).map(lambda t: t[0][: -t[1]]),
        st.tuples(real, TEXT).map(lambda t: t[0] + quote(t[1], safe="")),
        st.tuples(real, TEXT).map(lambda t: t[0].rsplit("/", 2)[0] + "/" + quote(t[1]) + "/"),
    )


def form_post(path: str, fields: dict[str, list[str]]) -> st.SearchStrategy[Probe]:
    """A form post whose every field is a valid value, random text, or missing."""
    values = {
        name: st.one_of(st.sampled_from(valid), TEXT, st.none()) for name, valid in fields.items()
    }
    return st.fixed_dictionaries(values).map(
        lambda data: Probe(
            "POST", path, {key: value for key, value in data.items() if value is not None}
        )
    )


SIGNUP = {"email": ["new@acme.example", "fuzz@acme.example"]}
PRIVACY_REQUEST = {
    "name": ["Jane"],
    "email": ["jane@fuzz.example"],
    "right": ["access", "deletion", "correction"],
    "regime": ["gdpr", "ccpa", "lgpd"],
    "service_named": [""],
    "details": ["A copy."],
    "agent_name": ["", "Alex"],
    "agent_email": ["", "alex@agents.example"],
}
AUDIT_PLAN = {
    "customer_name": ["Fuzz GmbH"],
    "name": ["Dana"],
    "email": ["dana@fuzz.example"],
    "scope": ["Access control"],
    "proposed_start": ["2099-04-15", "2026-01-01", "9999-12-31"],
    "duration_days": ["3", "99999999999999999999"],
    "self_audit": ["on"],
    "auditor_firm": ["Audit & Co"],
    "auditor_lead": ["Ada"],
    "ground": ["annual", "breach", "concerns", "law"],
    "evidence": [""],
}
OBJECTION = {"reason": ["We object."]}
PUBLIC_PAGES = [
    "/",
    "/sub-processors/",
    "/sub-processors.json",
    "/sub-processors.csv",
    "/sub-processors/changes.atom",
    "/sub-processors/notices/",
    "/sub-processors/notices/sent/",
    "/privacy-requests/",
    "/privacy-requests/sent/",
    "/audits/plan/",
    "/audits/plan/sent/",
]
DASHBOARD_KEYS = ["area", "customer", "rule", "due_after", "due_before", "due_min", "due_max"]
CONTENT_TYPES = [
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=utf-16",
    "application/x-www-form-urlencoded; charset=no-such-charset",
    "multipart/form-data",
    "multipart/form-data; boundary=xx",
    "text/plain",
    "application/json",
]


def probes(world: World) -> st.SearchStrategy[Probe]:
    links = link_variants(world)
    public_paths = st.sampled_from([*PUBLIC_PAGES, *world.links])
    changelist = st.sampled_from(sorted(world.changelists))
    staff_paths = [
        query_string(DASHBOARD_KEYS).flatmap(
            lambda qs: st.sampled_from(
                [f"/admin/?{qs}", f"/admin/deadlines.csv?{qs}", f"/admin/deadlines.xlsx?{qs}"]
            )
        ),
        changelist.flatmap(
            lambda path: query_string(world.changelists[path]).map(lambda qs: f"{path}?{qs}")
        ),
        query_string(["term", "app_label", "model_name", "field_name"]).map(
            lambda qs: f"/admin/autocomplete/?{qs}"
        ),
        query_string(["model", "start", "end", "record"]).map(
            lambda qs: f"/admin/history/export/?{qs}"
        ),
        TEXT.map(lambda text: f"/staff/files/{quote(text)}"),
    ]
    public = [
        form_post("/sub-processors/notices/", SIGNUP),
        form_post("/privacy-requests/", PRIVACY_REQUEST),
        form_post("/audits/plan/", AUDIT_PLAN),
        links.map(lambda path: Probe("GET", path)),
        st.tuples(
            links, st.dictionaries(st.sampled_from(["reason", "List-Unsubscribe"]), TEXT)
        ).map(lambda t: Probe("POST", t[0], dict(t[1]))),
        st.tuples(public_paths, query_string(["start", "format", "page", "q"])).map(
            lambda t: Probe("GET", f"{t[0]}?{t[1]}")
        ),
        st.tuples(
            st.sampled_from(["/sub-processors/notices/", "/privacy-requests/", "/audits/plan/"]),
            RAW,
            st.sampled_from(CONTENT_TYPES),
        ).map(lambda t: Probe("POST", t[0], body=t[1], content_type=t[2])),
    ]
    staff = [path.map(lambda p: Probe("GET", p, as_staff=True)) for path in staff_paths]
    # Drawn evenly: st.one_of favours its first branches, and each target should get its share.
    return st.sampled_from([*public, *staff]).flatmap(lambda target: target)


@pytest.mark.django_db
def test_no_input_gives_a_5xx(
    world: World, counsel: Any, viewer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    public = Client()
    staff = {"counsel": sign_in(Client(), counsel), "viewer": sign_in(Client(), viewer)}

    @hypothesis_settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(probe=probes(world), role=st.sampled_from(sorted(staff)))
    def one_request(probe: Probe, role: str) -> None:
        mail.outbox.clear()
        # The emails a post queues are rendered and sent too, as after a real commit.
        with django_capture_on_commit_callbacks(execute=True):
            response = probe.send(public, staff[role])
        assert response.status_code < 500, probe
        if probe.as_staff:
            # The staff session survived the request (nothing above logged it out).
            assert response.status_code != 302 or "/login/" not in response["Location"], probe

    one_request()
