"""Every staff login needs a second factor (TOTP, or a backup code), enrolled on first login."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from harmonyze_portal.roles import ANALYST
from tests.conftest import PASSWORD, current_code, make_staff

pytestmark = pytest.mark.sign_in_pages

ADMIN_PAGES = [
    "/admin/",
    "/admin/harmonyze_portal/publicholiday/",
    "/admin/harmonyze_portal/publicholiday/add/",
    "/admin/auth/user/",
    "/admin/auth/user/add/",
    "/admin/auth/user/{pk}/change/",
    "/admin/auth/user/{pk}/password/",
    "/admin/axes/accessattempt/",
]


def password_only(user: Any) -> Client:
    client = Client()
    response = client.post(
        "/admin/login/?next=/admin/", {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    return client


def wrong_code(user: Any) -> str:
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    # The device accepts the codes of the neighbouring 30-second steps too.
    accepted = {
        f"{totp(device.bin_key, t0=device.t0 + drift * device.step, step=device.step):06d}"
        for drift in (-1, 0, 1)
    }
    return next(code for code in ("123456", "654321", "111111") if code not in accepted)


def current_code_of(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def secret_shown(page: str) -> bytes:
    match = re.search(r'data-testid="totp-secret">([A-Z2-7 =]+)</code>', page)
    assert match, "the setup page shows no secret"
    return base64.b32decode(match.group(1).replace(" ", ""))


def backup_codes_shown(page: str) -> list[str]:
    return re.findall(r"<li><code>([^<]+)</code></li>", page)


# --- A password alone opens nothing.


@pytest.mark.django_db
@pytest.mark.parametrize("page", ADMIN_PAGES)
def test_a_password_alone_reaches_no_admin_page(counsel: Any, page: str) -> None:
    client = password_only(counsel)
    path = page.format(pk=counsel.pk)

    first = client.get(path)
    followed = client.get(path, follow=True)

    assert first.status_code == 302
    assert followed.status_code == 200
    final_url, final_status = followed.redirect_chain[-1]
    assert final_status == 302
    assert final_url == f"/staff/2fa/verify/?next={quote(path, safe='')}"
    assert followed.request["PATH_INFO"] == "/staff/2fa/verify/"
    body = followed.content.decode()
    assert "Enter your code" in body
    assert "app-list" not in body
    assert 'href="/admin/auth/user/"' not in body
    assert 'href="/admin/harmonyze_portal/publicholiday/"' not in body
    assert "counsel@harmonyze.com" not in body


@pytest.mark.django_db
def test_the_admin_login_page_sends_an_unverified_user_to_the_second_step(counsel: Any) -> None:
    client = password_only(counsel)

    response = client.get("/admin/login/?next=/admin/auth/user/")

    assert response.status_code == 302
    assert response["Location"] == "/staff/2fa/?next=/admin/auth/user/"
    start = client.get(response["Location"])
    assert start.status_code == 302
    assert start["Location"] == "/staff/2fa/verify/?next=%2Fadmin%2Fauth%2Fuser%2F"


@pytest.mark.django_db
def test_a_user_without_an_authenticator_is_sent_to_enrol() -> None:
    newcomer = make_staff("newcomer", ANALYST, with_device=False)
    client = password_only(newcomer)

    response = client.get("/admin/", follow=True)

    assert response.redirect_chain[-1] == ("/staff/2fa/setup/?next=%2Fadmin%2F", 302)
    assert b"Set up two-step sign-in" in response.content
    # Asking for the verify page directly also lands on enrolment.
    verify = client.get("/staff/2fa/verify/")
    assert verify.status_code == 302
    assert verify["Location"] == "/staff/2fa/setup/?next=%2Fadmin%2F"


# --- The verify step.


@pytest.mark.django_db
def test_a_wrong_code_is_refused_and_leaves_the_user_unverified(counsel: Any) -> None:
    client = password_only(counsel)

    response = client.post("/staff/2fa/verify/", {"token": wrong_code(counsel), "next": "/admin/"})

    assert response.status_code == 200
    assert response.context["form"].errors["token"]
    assert b'<ul class="errorlist" id="id_token_error">' in response.content
    admin = client.get("/admin/")
    assert admin.status_code == 302
    assert admin["Location"] == "/admin/login/?next=/admin/"


@pytest.mark.django_db
def test_one_wrong_code_is_not_called_too_many(counsel: Any) -> None:
    client = password_only(counsel)

    response = client.post("/staff/2fa/verify/", {"token": wrong_code(counsel), "next": "/admin/"})

    assert response.context["form"].errors["token"] == [
        "That code did not match. Check the time on your phone, or use a backup code."
    ]


@pytest.mark.django_db
def test_a_code_that_is_not_a_code_is_refused(counsel: Any) -> None:
    client = password_only(counsel)

    response = client.post("/staff/2fa/verify/", {"token": "<script>", "next": "/admin/"})

    assert response.status_code == 200
    assert "Enter the 6-digit code, or one of your backup codes." in response.content.decode()
    assert client.get("/admin/").status_code == 302


@pytest.mark.django_db
def test_right_after_a_wrong_code_even_the_right_code_waits(counsel: Any) -> None:
    with time_machine.travel("2026-03-02 10:00:05Z", tick=False) as traveller:
        client = password_only(counsel)
        client.post("/staff/2fa/verify/", {"token": wrong_code(counsel), "next": "/admin/"})

        throttled = client.post(
            "/staff/2fa/verify/", {"token": current_code(counsel), "next": "/admin/"}
        )

        assert throttled.status_code == 200
        assert "Too many wrong codes." in throttled.content.decode()
        assert client.get("/admin/").status_code == 302

        traveller.shift(2)
        accepted = client.post(
            "/staff/2fa/verify/", {"token": current_code(counsel), "next": "/admin/"}
        )
        assert accepted.status_code == 302
        assert accepted["Location"] == "/admin/"


@pytest.mark.django_db
def test_the_right_code_goes_on_to_next_and_the_admin_opens(counsel: Any) -> None:
    client = password_only(counsel)

    response = client.post(
        "/staff/2fa/verify/",
        {"token": current_code(counsel), "next": "/admin/harmonyze_portal/publicholiday/"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/admin/harmonyze_portal/publicholiday/"
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert b"Select public holiday to change" in page.content
    assert client.get("/admin/").status_code == 200
    # Already verified: the second-step pages send the user on.
    again = client.get("/staff/2fa/verify/?next=/admin/auth/user/")
    assert again.status_code == 302
    assert again["Location"] == "/admin/auth/user/"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/", "https://evil.example/admin/"],
)
def test_next_to_another_host_is_ignored(counsel: Any, target: str) -> None:
    client = password_only(counsel)

    response = client.post("/staff/2fa/verify/", {"token": current_code(counsel), "next": target})

    assert response.status_code == 302
    assert response["Location"] == "/admin/"


@pytest.mark.django_db
def test_next_to_another_host_is_not_echoed_into_the_verify_form(counsel: Any) -> None:
    client = password_only(counsel)

    response = client.get("/staff/2fa/verify/?next=https://evil.example/")

    assert response.status_code == 200
    assert b"evil.example" not in response.content
    assert b'name="next" value="/admin/"' in response.content


# --- Who may reach the second step at all.


@pytest.mark.django_db
@pytest.mark.parametrize(
    "page", ["/staff/2fa/", "/staff/2fa/verify/", "/staff/2fa/setup/", "/staff/2fa/backup-codes/"]
)
def test_anonymous_visitors_are_sent_to_the_admin_login(client: Client, page: str) -> None:
    response = client.get(page)

    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=%2Fadmin%2F"


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["/staff/2fa/verify/", "/staff/2fa/setup/"])
def test_non_staff_users_are_sent_to_the_admin_login(page: str) -> None:
    member = get_user_model().objects.create_user(
        username="member", email="member@example.com", password=PASSWORD
    )
    client = Client()
    client.force_login(member)

    response = client.get(page)
    posted = client.post(page, {"token": "123456"})

    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=%2Fadmin%2F"
    assert posted.status_code == 302
    assert posted["Location"] == "/admin/login/?next=%2Fadmin%2F"
    assert not TOTPDevice.objects.filter(user=member).exists()


@pytest.mark.django_db
def test_an_inactive_staff_user_is_sent_to_the_admin_login(counsel: Any) -> None:
    client = Client()
    client.force_login(counsel)
    counsel.is_active = False
    counsel.save()

    response = client.get("/staff/2fa/verify/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


# --- First login: enrolment and backup codes.


@pytest.mark.django_db
def test_enrolment_confirms_the_device_and_shows_backup_codes_once() -> None:
    newcomer = make_staff("newcomer", ANALYST, with_device=False)
    client = password_only(newcomer)

    setup = client.get("/staff/2fa/setup/?next=/admin/")

    assert setup.status_code == 200
    page = setup.content.decode()
    assert "<svg" in page
    device = TOTPDevice.objects.get(user=newcomer)
    assert device.confirmed is False
    key = secret_shown(page)
    assert key == device.bin_key
    # Reloading the page keeps the same unconfirmed device (the QR already scanned still works).
    assert secret_shown(client.get("/staff/2fa/setup/").content.decode()) == key
    assert TOTPDevice.objects.filter(user=newcomer).count() == 1

    code = f"{totp(key, step=device.step, t0=device.t0, digits=device.digits):06d}"
    confirmed = client.post("/staff/2fa/setup/", {"token": code, "next": "/admin/"})

    assert confirmed.status_code == 302
    assert confirmed["Location"] == "/staff/2fa/backup-codes/?next=%2Fadmin%2F"
    device.refresh_from_db()
    assert device.confirmed is True

    shown = client.get(confirmed["Location"])
    assert shown.status_code == 200
    codes = backup_codes_shown(shown.content.decode())
    assert len(codes) == 10
    assert len(set(codes)) == 10
    stored = set(StaticToken.objects.filter(device__user=newcomer).values_list("token", flat=True))
    assert stored == set(codes)

    second = client.get("/staff/2fa/backup-codes/")
    assert second.status_code == 302
    assert second["Location"] == "/admin/"
    assert not backup_codes_shown(client.get("/admin/").content.decode())
    # Enrolment verified the session: the admin opens.
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_a_wrong_code_at_enrolment_leaves_the_device_unconfirmed() -> None:
    newcomer = make_staff("newcomer", ANALYST, with_device=False)
    client = password_only(newcomer)
    client.get("/staff/2fa/setup/")
    device = TOTPDevice.objects.get(user=newcomer)
    right = {
        f"{totp(device.bin_key, t0=device.t0 + drift * device.step):06d}" for drift in (-1, 0, 1)
    }
    wrong = next(code for code in ("123456", "654321") if code not in right)

    response = client.post("/staff/2fa/setup/", {"token": wrong, "next": "/admin/"})

    assert response.status_code == 200
    assert "That code did not match. Scan the QR code again" in response.content.decode()
    device.refresh_from_db()
    assert device.confirmed is False
    assert not StaticToken.objects.filter(device__user=newcomer).exists()
    assert client.get("/admin/").status_code == 302


@pytest.mark.django_db
def test_a_backup_code_verifies_a_later_login_exactly_once() -> None:
    newcomer = make_staff("newcomer", ANALYST, with_device=False)
    with time_machine.travel("2026-03-02 09:00:00Z", tick=False) as traveller:
        client = password_only(newcomer)
        client.get("/staff/2fa/setup/")
        device = TOTPDevice.objects.get(user=newcomer)
        client.post("/staff/2fa/setup/", {"token": current_code_of(device), "next": "/admin/"})
        codes = backup_codes_shown(client.get("/staff/2fa/backup-codes/").content.decode())
        assert len(codes) == 10
        client.post("/staff/2fa/sign-out/")

        traveller.shift(3600)
        later = password_only(newcomer)
        used = later.post("/staff/2fa/verify/", {"token": codes[0], "next": "/admin/"})
        assert used.status_code == 302
        assert used["Location"] == "/admin/"
        assert later.get("/admin/").status_code == 200
        assert not StaticToken.objects.filter(token=codes[0]).exists()
        later.post("/staff/2fa/sign-out/")

        traveller.shift(3600)
        again = password_only(newcomer)
        reused = again.post("/staff/2fa/verify/", {"token": codes[0], "next": "/admin/"})
        assert reused.status_code == 200
        assert reused.context["form"].errors["token"]
        assert again.get("/admin/").status_code == 302

        traveller.shift(60)
        fresh = again.post("/staff/2fa/verify/", {"token": codes[1], "next": "/admin/"})
        assert fresh.status_code == 302
        assert StaticToken.objects.filter(device__user=newcomer).count() == 8


@pytest.mark.django_db
def test_a_confirmed_user_cannot_re_enrol_over_their_device(counsel: Any) -> None:
    client = password_only(counsel)

    response = client.get("/staff/2fa/setup/")

    assert response.status_code == 302
    assert response["Location"] == "/staff/2fa/verify/?next=%2Fadmin%2F"
    assert TOTPDevice.objects.filter(user=counsel).count() == 1


# --- Signing out.


@pytest.mark.django_db
def test_sign_out_logs_out(counsel: Any, signed_in: Callable[[Any], Client]) -> None:
    client = signed_in(counsel)
    assert client.get("/admin/").status_code == 200

    response = client.post("/staff/2fa/sign-out/")

    assert response.status_code == 302
    assert response["Location"] == "/admin/login/"
    assert "_auth_user_id" not in client.session
    admin = client.get("/admin/")
    assert admin.status_code == 302
    assert admin["Location"] == "/admin/login/?next=/admin/"


@pytest.mark.django_db
def test_sign_out_is_post_only(counsel: Any, signed_in: Callable[[Any], Client]) -> None:
    client = signed_in(counsel)

    response = client.get("/staff/2fa/sign-out/")

    assert response.status_code == 405
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_sign_out_from_the_second_step_before_verifying(counsel: Any) -> None:
    client = password_only(counsel)

    response = client.post("/staff/2fa/sign-out/")

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
    verify = client.get("/staff/2fa/verify/")
    assert verify.status_code == 302
    assert verify["Location"].startswith("/admin/login/")


# --- The local demo switch.


@pytest.mark.django_db
def test_with_2fa_switched_off_a_password_opens_the_admin(counsel: Any, settings: Any) -> None:
    settings.STAFF_2FA_REQUIRED = False

    client = password_only(counsel)

    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/auth/user/").status_code == 200
    verify = client.get("/staff/2fa/verify/")
    assert verify.status_code == 302
    assert verify["Location"] == "/admin/"


@pytest.mark.django_db
def test_with_2fa_on_the_same_password_login_does_not_open_the_admin(counsel: Any) -> None:
    # The counterpart of the test above, so that it cannot pass for the wrong reason.
    client = password_only(counsel)

    assert client.get("/admin/").status_code == 302


# --- Headers.


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["/staff/2fa/verify/", "/staff/2fa/setup/"])
def test_second_step_pages_send_a_content_security_policy(page: str) -> None:
    user = make_staff("newcomer", ANALYST, with_device=page.endswith("verify/"))
    client = password_only(user)

    response = client.get(page)

    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self' 'nonce-" in policy
    assert "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"
    assert "no-cache" in response["Cache-Control"]
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_backup_codes_page_is_never_cached() -> None:
    newcomer = make_staff("newcomer", ANALYST, with_device=False)
    client = password_only(newcomer)
    client.get("/staff/2fa/setup/")
    device = TOTPDevice.objects.get(user=newcomer)
    client.post("/staff/2fa/setup/", {"token": current_code_of(device)})

    response = client.get("/staff/2fa/backup-codes/")

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "Content-Security-Policy" in response


# --- The session key changes at the second step too (issue 13).


def assert_key_rotated_and_old_key_dead(client: Client, before: str) -> None:
    after = client.session.session_key
    assert after
    assert after != before
    assert client.get("/admin/").status_code == 200
    old = Client()
    old.cookies[settings.SESSION_COOKIE_NAME] = before
    response = old.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert "_auth_user_id" not in old.session


@pytest.mark.django_db
def test_verifying_the_code_gives_the_session_a_new_key(counsel: Any) -> None:
    client = password_only(counsel)
    before = client.session.session_key

    response = client.post(
        "/staff/2fa/verify/", {"token": current_code(counsel), "next": "/admin/"}
    )

    assert response.status_code == 302
    assert_key_rotated_and_old_key_dead(client, before)


@pytest.mark.django_db
def test_enrolling_gives_the_session_a_new_key() -> None:
    newcomer = make_staff("newcomer", ANALYST, with_device=False)
    client = password_only(newcomer)
    client.get("/staff/2fa/setup/")
    before = client.session.session_key
    device = TOTPDevice.objects.get(user=newcomer)

    response = client.post("/staff/2fa/setup/", {"token": current_code_of(device)})

    assert response.status_code == 302
    assert client.get(response["Location"]).status_code == 200  # the codes survive the new key
    assert_key_rotated_and_old_key_dead(client, before)
