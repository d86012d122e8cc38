"""The admin's locale sidebar filters offer only the user's locales, never every locale's name."""
import pytest
from django.test import Client

import factories as f

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("path", ["/admin/nlu/utterance/", "/admin/datasets/testfloor/", "/admin/nlu/lexiconentry/",
                                  "/admin/nlu/coveragetarget/"])
def test_locale_filters_offer_only_the_users_locales(path):
    de, ja = f.locale("de-DE"), f.locale("ja-JP")
    alarm = f.intent("alarm_set", "alarm")
    f.utterance(de, alarm, "weck mich")
    f.utterance(ja, alarm, "起こして")
    linguist = f.member("linguist", de)
    page = logged_in(linguist).get(path).content.decode()
    assert f"locale__id__exact={ja.pk}" not in page
    everything = logged_in(f.member("platform_admin", None)).get(path).content.decode()
    assert f"locale__id__exact={ja.pk}" in everything and f"locale__id__exact={de.pk}" in everything
