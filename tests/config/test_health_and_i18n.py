import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_healthz_ok_with_embedded_defaults(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"]["ok"] is True


def test_healthz_reports_unreachable_broker_as_503(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = Client().get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable" and body["broker"]["ok"] is False and body["database"]["ok"] is True


def test_admin_follows_the_users_language_preference():
    german = Client().get("/admin/login/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Passwort" in german and 'lang="de"' in german
    japanese = Client().get("/admin/login/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "パスワード" in japanese
