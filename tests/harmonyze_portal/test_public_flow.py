"""The public email-confirmation flow the areas share (harmonyze_portal/public_flow.py)."""

from __future__ import annotations

from typing import Any

import pytest
from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.test import Client, RequestFactory

from harmonyze_portal.links import LinkError
from harmonyze_portal.public_flow import (
    LinkEmailField,
    PublicFlow,
    absolute_url,
    apply_validation_error,
)


class ContactForm(forms.Form):
    name = forms.CharField()
    email = forms.EmailField()


def bound_form() -> ContactForm:
    form = ContactForm({"name": "Dana", "email": "dana@acme.com"})
    assert form.is_valid()
    return form


def test_the_address_a_link_goes_to_is_trimmed_and_lower_cased() -> None:
    field = LinkEmailField(required_message="Enter your email address.", example="jane@example.com")
    assert field.clean("  Dana@ACME.com ") == "dana@acme.com"
    with pytest.raises(ValidationError, match="Enter your email address"):
        field.clean("")
    with pytest.raises(ValidationError, match=r"like jane@example\.com"):
        field.clean("dana-at-acme")
    with pytest.raises(ValidationError, match="at most 254 characters"):
        field.clean("a" * 250 + "@acme.com")


def test_an_absolute_url_starts_with_the_portal_base_url(settings: Any) -> None:
    settings.PORTAL_BASE_URL = "https://portal.harmonyze.example"
    assert (
        absolute_url("requests:verify", "abc")
        == "https://portal.harmonyze.example/privacy-requests/verify/abc/"
    )
    assert absolute_url("audits:plan") == "https://portal.harmonyze.example/audits/plan/"


def test_a_refusal_goes_next_to_the_form_field_it_names() -> None:
    form = bound_form()
    refusal = ValidationError(
        {"requester_email": "Use your own address.", "name": "Too short.", "change": "Gone."}
    )
    apply_validation_error(form, refusal, fields={"requester_email": "email"})
    assert form.errors["email"] == ["Use your own address."]
    assert form.errors["name"] == ["Too short."]
    # The form has no field "change": the message goes above the form, never a ValueError.
    assert form.non_field_errors() == ["Gone."]
    assert not form.is_valid()


@pytest.mark.parametrize(
    "refusal",
    [
        ValidationError("This plan was already confirmed."),
        ValidationError({NON_FIELD_ERRORS: ["This plan was already confirmed."]}),
    ],
    ids=["message", "non-field"],
)
def test_a_refusal_naming_no_field_goes_above_the_form(refusal: ValidationError) -> None:
    form = bound_form()
    apply_validation_error(form, refusal)
    assert form.non_field_errors() == ["This plan was already confirmed."]
    assert form.cleaned_data == {"name": "Dana", "email": "dana@acme.com"}


@pytest.mark.parametrize(("expired", "status"), [(True, 410), (False, 400)])
def test_an_expired_link_is_gone_and_a_forged_one_is_bad(
    rf: RequestFactory, settings: Any, expired: bool, status: int
) -> None:
    settings.LEGAL_INBOX_EMAIL = "dpa-desk@harmonyze.example"
    flow = PublicFlow(form="requests:form", form_again="send the request again")
    response = flow.link_refused(rf.get("/"), LinkError("This link is no good.", expired=expired))
    page = response.content.decode()
    assert response.status_code == status
    assert '<p class="notice error" role="alert">This link is no good.</p>' in page
    assert '<a href="/privacy-requests/">send the request again</a>' in page
    assert "mailto:dpa-desk@harmonyze.example" in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "form", "again"),
    [
        ("/audits/plan/confirm/nonsense/", "/audits/plan/", "send the audit plan again"),
        ("/privacy-requests/verify/nonsense/", "/privacy-requests/", "send the request again"),
        (
            "/sub-processors/notices/confirm/nonsense/",
            "/sub-processors/notices/",
            "sign up to the notices again",
        ),
        (
            "/sub-processors/notices/unsubscribe/nonsense/",
            "/sub-processors/notices/",
            "sign up to the notices again",
        ),
    ],
    ids=["audit plan", "privacy request", "notice confirm", "notice unsubscribe"],
)
def test_each_areas_link_problem_page_offers_its_form_and_the_configured_legal_inbox(
    client: Client, settings: Any, path: str, form: str, again: str
) -> None:
    """The areas' pages used to show the default inbox whatever LEGAL_INBOX_EMAIL said."""
    settings.LEGAL_INBOX_EMAIL = "dpa-desk@harmonyze.example"
    response = client.get(path)
    page = response.content.decode()
    assert response.status_code == 400
    assert f'<a href="{form}">{again}</a>' in page
    assert '<a href="mailto:dpa-desk@harmonyze.example">dpa-desk@harmonyze.example</a>' in page
    assert "legal@harmonyze.com" not in page
