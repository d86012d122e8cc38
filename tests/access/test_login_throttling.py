"""Login throttling (issue 15, finding 13): django-axes locks a user name + address pair out of
/admin/login/ and /collect/login/ after PARLEY_LOGIN_FAILURE_LIMIT failures, for the cool-off."""
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client

import factories as f

pytestmark = pytest.mark.django_db

PASSWORD = "pw-test-1234"
LOGINS = {"/admin/login/": ("platform_admin", "/admin/"), "/collect/login/": ("annotator", "/collect/")}


@pytest.fixture(params=sorted(LOGINS))
def login_page(request):
    path = request.param
    role, home = LOGINS[path]
    user = f.member(role, None if role == "platform_admin" else f.locale("de-DE"), username="kim")
    return path, user, home


def attempt(path, password, address="203.0.113.7"):
    client = Client(REMOTE_ADDR=address)
    return client, client.post(path, {"username": "kim", "password": password})


def logged_in(client, home) -> bool:
    return client.get(home).status_code == 200


def fail(path, times, address="203.0.113.7"):
    for _ in range(times):
        _client, response = attempt(path, "wrong-password", address)
        assert response.status_code == 200  # the form again, with its error


def lock_out(path):
    fail(path, settings.AXES_FAILURE_LIMIT - 1)
    assert attempt(path, "wrong-password")[1].status_code == 429  # the failure that reaches the limit


def test_the_right_password_is_refused_after_the_limit_until_the_cool_off(login_page):
    path, user, home = login_page
    lock_out(path)
    client, response = attempt(path, PASSWORD)
    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many failed logins" in page and f"Try again in {settings.AXES_COOLOFF_TIME.seconds // 60} minutes" in page and 'id="lockout"' in page and PASSWORD not in page
    assert not logged_in(client, home)
    # Tries during the lockout do not stretch it; once the cool-off has passed since the last
    # counted failure (the clock moved back here), the right password works again.
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time
                                 - settings.AXES_COOLOFF_TIME - timedelta(seconds=1))
    client, response = attempt(path, PASSWORD)
    assert response.status_code == 302 and logged_in(client, home)


def test_the_lock_is_for_the_user_from_that_address(login_page):
    path, user, home = login_page
    lock_out(path)
    assert attempt(path, PASSWORD)[1].status_code == 429
    client, response = attempt(path, PASSWORD, address="198.51.100.20")
    assert response.status_code == 302 and logged_in(client, home)


def test_a_success_resets_the_count(login_page):
    path, user, home = login_page
    fail(path, settings.AXES_FAILURE_LIMIT - 1)
    assert attempt(path, PASSWORD)[1].status_code == 302
    fail(path, settings.AXES_FAILURE_LIMIT - 1)
    client, response = attempt(path, PASSWORD)
    assert response.status_code == 302 and logged_in(client, home)


def test_one_below_the_limit_still_lets_the_right_password_in(login_page):
    path, user, home = login_page
    fail(path, settings.AXES_FAILURE_LIMIT - 1)
    client, response = attempt(path, PASSWORD)
    assert response.status_code == 302 and logged_in(client, home)


def test_behind_a_proxy_the_address_is_the_one_the_proxy_saw(login_page, settings):
    """A forged X-Forwarded-For entry does not give a fresh address per try; the one the trusted
    proxy appended does count."""
    settings.PARLEY_TRUSTED_PROXY_COUNT = 1
    path, user, home = login_page
    for n in range(settings.AXES_FAILURE_LIMIT):
        client = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, 203.0.113.7")
        response = client.post(path, {"username": "kim", "password": "wrong-password"})
    assert response.status_code == 429
    locked = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="192.0.2.99, 203.0.113.7")
    assert locked.post(path, {"username": "kim", "password": PASSWORD}).status_code == 429
    other = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.20")
    assert other.post(path, {"username": "kim", "password": PASSWORD}).status_code == 302


def test_without_a_trusted_proxy_the_header_is_ignored(login_page):
    path, user, home = login_page
    for n in range(settings.AXES_FAILURE_LIMIT):
        response = Client(REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}").post(
            path, {"username": "kim", "password": "wrong-password"})
    assert response.status_code == 429
