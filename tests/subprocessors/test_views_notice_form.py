"""The Notice Form and its links (S2): no enumeration, double opt-in, scanner-safe GETs,
single-purpose tokens and RFC 8058 one-click unsubscribe."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client

from subprocessors import tokens
from subprocessors.models import Signup, SignupStatus
from tests.harmonyze_portal.answers import (
    QUEUED,
    answer,
    indistinguishable,
    medians_ms,
    run_queued,
    work_before_the_answer,
)
from tests.subprocessors.builders import make_signup

pytestmark = pytest.mark.django_db

IP = "198.51.100.7"


def sign_up(client: Client, email: str, ip: str = IP):
    return client.post("/sub-processors/notices/", {"email": email}, REMOTE_ADDR=ip)


def link_in(message, kind: str) -> str:
    match = re.search(rf"http://\S+/sub-processors/notices/{kind}/\S+/", message.body)
    assert match, message.body
    return match.group(0).removeprefix("http://127.0.0.1:8000")


def confirm_path(signup: Signup) -> str:
    token = tokens.confirm_token(signup.pk, signup.email, signup.link_version)
    return f"/sub-processors/notices/confirm/{token}/"


def unsubscribe_path(signup: Signup) -> str:
    return f"/sub-processors/notices/unsubscribe/{tokens.unsubscribe_token(signup.pk)}/"


def test_the_form_page_is_plain_html(client: Client) -> None:
    response = client.get("/sub-processors/notices/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'type="email"' in page
    assert "csrfmiddlewaretoken" in page
    assert "<script" not in page
    assert "style=" not in page


@pytest.mark.parametrize("state", ["new", "pending", "active"])
def test_every_address_gets_the_same_answer(
    client: Client, django_capture_on_commit_callbacks, state: str
) -> None:
    if state != "new":
        make_signup("dpo@acme.com", status=state)
    with django_capture_on_commit_callbacks(execute=True):
        response = sign_up(client, "DPO@acme.com")
    assert response.status_code == 302
    assert response["Location"] == "/sub-processors/notices/sent/"
    followed = client.get(response["Location"])
    assert "Check your inbox" in followed.content.decode()
    [message] = mail.outbox
    assert message.to == ["dpo@acme.com"]
    if state == "active":
        assert "already" in message.subject
        assert "/notices/confirm/" not in message.body
    else:
        assert message.subject.startswith("Confirm")
        assert "/notices/confirm/" in message.body
    signup = Signup.objects.get()
    assert signup.status == (SignupStatus.ACTIVE if state == "active" else SignupStatus.PENDING)


def test_a_new_signup_records_its_ip_and_waits_for_confirmation(
    client: Client, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(client, "dpo@acme.com")
    signup = Signup.objects.get()
    assert signup.status == SignupStatus.PENDING
    assert signup.signup_ip == IP
    assert signup.confirmed_at is None


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("not-an-address", "Enter a whole email address"),
        ("", "Enter the email address"),
        ("a" * 60 + "@" + ".".join(["b" * 60] * 3) + ".example.com", "at most 254 characters"),
    ],
)
def test_a_malformed_or_overlong_address_is_refused_and_nothing_written(
    client: Client, django_capture_on_commit_callbacks, email: str, message: str
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = sign_up(client, email)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()
    assert not Signup.objects.exists()
    assert mail.outbox == []


def test_the_form_needs_a_csrf_token() -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/sub-processors/notices/", {"email": "dpo@acme.com"})
    assert response.status_code == 403
    assert not Signup.objects.exists()


def test_too_many_signups_get_429_write_nothing_and_send_nothing(
    client: Client, settings, django_capture_on_commit_callbacks
) -> None:
    settings.PUBLIC_POST_RATE = "2/h"
    with django_capture_on_commit_callbacks(execute=True):
        assert sign_up(client, "one@acme.com").status_code == 302
        assert sign_up(client, "two@acme.com").status_code == 302
        response = sign_up(client, "three@acme.com")
    assert response.status_code == 429
    assert not Signup.objects.filter(email="three@acme.com").exists()
    assert [m.to for m in mail.outbox] == [["one@acme.com"], ["two@acme.com"]]


def test_confirming_from_the_email_activates_and_records_the_ip(
    client: Client, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(client, "dpo@acme.com")
    path = link_in(mail.outbox[0], "confirm")
    page = client.get(path)
    assert page.status_code == 200
    assert '<form method="post"' in page.content.decode()
    response = client.post(path, REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 200
    assert "You are signed up" in response.content.decode()
    signup = Signup.objects.get()
    assert signup.status == SignupStatus.ACTIVE
    assert signup.confirmed_at is not None
    assert signup.confirm_ip == "203.0.113.9"


def test_a_get_on_confirm_or_unsubscribe_changes_nothing(client: Client) -> None:
    """Mail scanners open every link: only the button's POST acts."""
    pending = make_signup("pending@acme.com")
    active = make_signup("active@acme.com", status=SignupStatus.ACTIVE)
    history = Signup.history.count()
    assert client.get(confirm_path(pending)).status_code == 200
    assert client.head(confirm_path(pending)).status_code == 200
    assert client.get(unsubscribe_path(active)).status_code == 200
    pending.refresh_from_db()
    active.refresh_from_db()
    assert pending.status == SignupStatus.PENDING
    assert active.status == SignupStatus.ACTIVE
    assert Signup.history.count() == history


def test_unsubscribing_with_the_button(client: Client) -> None:
    signup = make_signup(status=SignupStatus.ACTIVE)
    response = client.post(unsubscribe_path(signup))
    assert response.status_code == 200
    assert "You are unsubscribed" in response.content.decode()
    signup.refresh_from_db()
    assert signup.status == SignupStatus.UNSUBSCRIBED
    assert signup.unsubscribed_at is not None


def test_one_click_unsubscribe_needs_no_csrf_token_or_session() -> None:
    """RFC 8058: the mail client POSTs List-Unsubscribe=One-Click, nothing else."""
    signup = make_signup(status=SignupStatus.ACTIVE)
    client = Client(enforce_csrf_checks=True)
    body = {"List-Unsubscribe": "One-Click"}
    response = client.post(unsubscribe_path(signup), body)
    assert response.status_code == 200
    signup.refresh_from_db()
    assert signup.status == SignupStatus.UNSUBSCRIBED
    # A retry by the mail client is still fine.
    assert client.post(unsubscribe_path(signup), body).status_code == 200


@pytest.mark.parametrize("kind", ["confirm", "unsubscribe"])
def test_a_tampered_token_gets_400(client: Client, kind: str) -> None:
    signup = make_signup(status=SignupStatus.ACTIVE if kind == "unsubscribe" else "pending")
    path = confirm_path(signup) if kind == "confirm" else unsubscribe_path(signup)
    token = path.rstrip("/").rsplit("/", 1)[1]
    forged = path.replace(token, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    for response in (client.get(forged), client.post(forged)):
        assert response.status_code == 400
        assert "not valid" in response.content.decode()
    signup.refresh_from_db()
    assert signup.status == (SignupStatus.ACTIVE if kind == "unsubscribe" else "pending")


def test_a_token_for_another_purpose_is_refused(client: Client) -> None:
    signup = make_signup()
    token = tokens.unsubscribe_token(signup.pk)
    response = client.post(f"/sub-processors/notices/confirm/{token}/")
    assert response.status_code == 400
    signup.refresh_from_db()
    assert signup.status == SignupStatus.PENDING


def test_an_expired_confirmation_link_gets_410_and_says_sign_up_again(client: Client) -> None:
    with time_machine.travel(datetime(2026, 3, 2, 12, tzinfo=UTC), tick=False) as clock:
        signup = make_signup()
        path = confirm_path(signup)
        clock.shift(timedelta(hours=47, minutes=59))
        assert client.get(path).status_code == 200
        clock.shift(timedelta(minutes=2))
        response = client.post(path)
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    assert "Sign up again" in response.content.decode()
    signup.refresh_from_db()
    assert signup.status == SignupStatus.PENDING


def test_a_reused_confirmation_or_unsubscribe_link_gets_410(client: Client) -> None:
    signup = make_signup()
    assert client.post(confirm_path(signup)).status_code == 200
    response = client.post(confirm_path(signup))
    assert response.status_code == 410
    assert "already confirmed" in response.content.decode()
    assert client.post(unsubscribe_path(signup)).status_code == 200
    response = client.post(unsubscribe_path(signup))
    assert response.status_code == 410
    assert "already unsubscribed" in response.content.decode()


def test_a_valid_token_for_a_deleted_signup_gets_404(client: Client) -> None:
    signup = make_signup()
    path = confirm_path(signup)
    signup.delete()
    assert client.post(path).status_code == 404


def test_an_old_confirmation_link_does_not_undo_an_unsubscribe(client: Client) -> None:
    """Consent (S2): after unsubscribing, only a fresh sign-up can make the address active."""
    signup = make_signup()
    path = confirm_path(signup)
    assert client.post(path).status_code == 200
    assert client.post(unsubscribe_path(signup)).status_code == 200
    response = client.post(path)
    assert response.status_code == 410
    assert "Sign up again" in response.content.decode()
    signup.refresh_from_db()
    assert signup.status == SignupStatus.UNSUBSCRIBED


def test_signing_up_again_after_unsubscribing_needs_a_new_confirmation(
    client: Client, django_capture_on_commit_callbacks
) -> None:
    signup = make_signup(status=SignupStatus.UNSUBSCRIBED)
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(client, signup.email)
    signup.refresh_from_db()
    assert signup.status == SignupStatus.PENDING
    assert client.post(link_in(mail.outbox[0], "confirm")).status_code == 200
    signup.refresh_from_db()
    assert signup.status == SignupStatus.ACTIVE


def test_rule_s2_an_old_link_does_not_confirm_after_unsubscribe_and_a_new_signup(
    client: Client, django_capture_on_commit_callbacks
) -> None:
    """The link is bound to the signup's round: after an unsubscribe and a fresh signup, the
    first email's link is refused with a 410, and only the newest link confirms."""
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(client, "dpo@acme.com")
    old_link = link_in(mail.outbox[-1], "confirm")
    assert client.post(old_link).status_code == 200
    signup = Signup.objects.get()
    assert client.post(unsubscribe_path(signup)).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        sign_up(client, "dpo@acme.com")
    new_link = link_in(mail.outbox[-1], "confirm")

    for method in (client.get, client.post):
        refused = method(old_link)
        assert refused.status_code == 410
        assert "belongs to an earlier sign-up" in refused.content.decode()
    signup.refresh_from_db()
    assert signup.status == SignupStatus.PENDING

    assert client.post(new_link).status_code == 200
    signup.refresh_from_db()
    assert signup.status == SignupStatus.ACTIVE


def test_rule_s2_an_unconfirmed_link_dies_with_an_unsubscribe(client: Client) -> None:
    """A pending signup's link, then an unsubscribe from a Notice-less link: the old link is
    refused by the service too (a shell or task call cannot bypass the view's check)."""
    from django.core.exceptions import ValidationError

    from subprocessors import services

    signup = make_signup("dpo@acme.com", status=SignupStatus.ACTIVE)
    version = signup.link_version
    services.signup_unsubscribe(signup=signup)
    services.signup_request(email="dpo@acme.com", ip=IP)
    signup.refresh_from_db()
    with pytest.raises(ValidationError, match="earlier sign-up"):
        services.signup_confirm(signup=signup, version=version, ip=IP)
    signup.refresh_from_db()
    assert signup.status == SignupStatus.PENDING


def test_six_posts_of_one_new_address_racing_get_the_same_answer(
    client: Client, django_capture_on_commit_callbacks, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race: each of six concurrent posts looks the address up before any has saved, so
    each tries to create the row. Simulated deterministically (SQLite has no concurrent
    writers): every first lookup misses though the row exists, as it would for a post that
    lost the race; the unique constraint decides. No 500, one row, the same answer to all."""
    from subprocessors import services

    make_signup("dpo@acme.com")
    real_lookup = services._existing_signup
    calls: list[str] = []

    def lookup_that_lost_the_race(email: str) -> Signup | None:
        calls.append(email)
        return None if len(calls) % 2 else real_lookup(email)

    monkeypatch.setattr(services, "_existing_signup", lookup_that_lost_the_race)
    with django_capture_on_commit_callbacks(execute=True):
        responses = [sign_up(client, "dpo@acme.com", ip=f"198.51.100.{n}") for n in range(6)]

    assert len(calls) == 12  # each post missed, hit the constraint, and read the winner's row
    assert [r.status_code for r in responses] == [302] * 6
    assert {r["Location"] for r in responses} == {"/sub-processors/notices/sent/"}
    assert Signup.objects.count() == 1
    assert len(mail.outbox) == 6


@pytest.mark.parametrize("state", ["new", "pending", "active", "unsubscribed"])
def test_the_signup_emails_echo_nothing_typed_but_the_address(
    client: Client, django_capture_on_commit_callbacks, state: str
) -> None:
    """The form's one field is the address; any other posted text never reaches the email."""
    if state != "new":
        make_signup("dpo@acme.com", status=state)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/sub-processors/notices/",
            {"email": "dpo@acme.com", "name": "Win at https://evil.example"},
            REMOTE_ADDR=IP,
        )
    [message] = mail.outbox
    assert "evil.example" not in message.body


# --- New, pending, active or unsubscribed: indistinguishable -------------------------------

STATES = ("new", "pending", "active", "unsubscribed")


def _address_in(state: str) -> str:
    email = f"{state}@acme.com"
    if state != "new":
        make_signup(email, status=state)
    return email


def test_every_state_gets_the_very_same_answer(django_capture_on_commit_callbacks) -> None:
    """Status, every header but Date (no Vary: Cookie for a new address only), cookies and
    body, each from a fresh client; the new address is still recorded."""
    addresses = {state: _address_in(state) for state in STATES}
    with django_capture_on_commit_callbacks(execute=True):
        answers = {state: answer(sign_up(Client(), email)) for state, email in addresses.items()}
    assert len(set(answers.values())) == 1, answers
    assert "Vary" not in dict(answers["new"][1])
    assert Signup.objects.filter(email="new@acme.com", status=SignupStatus.PENDING).exists()
    assert len(mail.outbox) == 4


def test_the_page_is_answered_before_any_state_dependent_work(settings) -> None:
    """With the production task queue: the view runs the same statements for every address
    (it queues the work); the worker then records the new address and emails each one."""
    settings.TASKS = QUEUED
    addresses = {state: _address_in(state) for state in STATES}
    work = {}
    for n, (state, email) in enumerate(addresses.items()):
        response, work[state] = work_before_the_answer(
            lambda email=email, n=n: sign_up(Client(), email, ip=f"198.51.100.{n}")
        )
        assert response.status_code == 302
    assert len({tuple(shape) for shape in work.values()}) == 1, work
    assert not Signup.objects.filter(email="new@acme.com").exists()
    assert run_queued() == 4
    assert Signup.objects.filter(email="new@acme.com", status=SignupStatus.PENDING).exists()


def test_every_state_takes_the_same_time(settings) -> None:
    """A loose check (the statements above are the proof): median of 25 interleaved posts."""
    settings.TASKS = QUEUED
    settings.PUBLIC_POST_RATE = "100000/h"
    addresses = {state: _address_in(state) for state in STATES}
    medians = medians_ms(
        {state: lambda email=email: sign_up(Client(), email) for state, email in addresses.items()},
        rounds=25,
    )
    assert indistinguishable(medians), medians
