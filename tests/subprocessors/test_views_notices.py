"""From the Notice Form to the Notice (S2, S3, S6): double opt-in, and the RFC 8058 headers
of every Notice pointing at the one-click unsubscribe endpoint."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client

from subprocessors import services
from subprocessors.models import Delivery, SignupStatus, SubProcessorStatus
from tests.subprocessors.builders import make_change, make_signup, make_subprocessor

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft():
    return make_change(make_subprocessor("Stripe", status=SubProcessorStatus.ANNOUNCED))


def test_a_pending_signup_gets_no_notice(draft, django_capture_on_commit_callbacks) -> None:
    """Double opt-in (S2): nothing reaches an address until its owner confirms."""
    make_signup("pending@acme.com")
    make_signup("gone@acme.com", status=SignupStatus.UNSUBSCRIBED)
    active = make_signup("active@acme.com", status=SignupStatus.ACTIVE)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.change_publish(change=draft) == 1
    assert [m.to for m in mail.outbox] == [["active@acme.com"]]
    assert list(Delivery.objects.values_list("signup", flat=True)) == [active.pk]


def test_the_notice_carries_one_click_unsubscribe_headers(
    client: Client, draft, django_capture_on_commit_callbacks
) -> None:
    signup = make_signup("active@acme.com", status=SignupStatus.ACTIVE)
    with django_capture_on_commit_callbacks(execute=True):
        services.change_publish(change=draft)
    [message] = mail.outbox
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    header = message.extra_headers["List-Unsubscribe"]
    assert header.startswith("<http")
    assert header.endswith(">")
    url = header[1:-1]
    assert url in message.body
    assert "/sub-processors/notices/unsubscribe/" in url
    assert f"/sub-processors/changes/{draft.pk}/object/" in message.body
    # The mail client's one-click POST, as RFC 8058 describes it.
    path = url.removeprefix("http://127.0.0.1:8000")
    response = Client(enforce_csrf_checks=True).post(
        path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    signup.refresh_from_db()
    assert signup.status == SignupStatus.UNSUBSCRIBED


def test_the_objection_link_in_the_notice_opens_the_form(
    client: Client, draft, django_capture_on_commit_callbacks
) -> None:
    make_signup("active@acme.com", status=SignupStatus.ACTIVE)
    with django_capture_on_commit_callbacks(execute=True):
        services.change_publish(change=draft)
    [line] = [x for x in mail.outbox[0].body.splitlines() if x.startswith("To object")]
    path = line.split(": ", 1)[1].removeprefix("http://127.0.0.1:8000")
    response = client.get(path)
    assert response.status_code == 200
    assert "You may object until" in response.content.decode()
