"""Staff passwords: at least 12 characters, not common, not like the account's own details."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("Tr0ub4dor&3", "at least 12 characters"),  # 11 characters
        ("password1234", "too common"),
        ("casey.counsel-harmonyze", "too similar"),
        ("839201746512", "entirely numeric"),
    ],
)
def test_weak_passwords_are_refused(password: str, reason: str) -> None:
    user = get_user_model()(
        username="casey.counsel", email="casey.counsel@harmonyze.com", first_name="Casey"
    )
    with pytest.raises(ValidationError) as excinfo:
        validate_password(password, user)
    assert any(reason in message for message in excinfo.value.messages), excinfo.value.messages


@pytest.mark.django_db
def test_a_long_uncommon_passphrase_is_accepted() -> None:
    user = get_user_model()(username="casey.counsel", email="casey.counsel@harmonyze.com")
    validate_password("plum orbit lantern 1987", user)  # twelve characters and more
