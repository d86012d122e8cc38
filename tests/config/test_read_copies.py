"""Read-path copies (config/generations.py): a warm token authentication and a warm render ask
the database nothing, and every write that changes their answer is seen on the next request, in
this process (the service's bump) and in any other (the shared counter), or after
PARLEY_READ_CACHE_SECONDS for a write that bypassed the services."""
import pytest
from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIClient

import factories as f
from parley.access.models import ApiToken, Membership
from parley.access.services import membership_revoke, token_revoke
from parley.config import generations
from parley.culture.services import template_status_change
from parley.locales.selectors import locale_fallback_chain, locale_resolve
from parley.locales.services import locale_parent_set

pytestmark = pytest.mark.django_db

RENDER = "/api/v1/templates/alarm_set.confirm/render"


@pytest.fixture(autouse=True)
def _copies_on(settings):
    # On by default only with Redis (shared counters); these tests need them in either setup.
    settings.PARLEY_READ_CACHE_SECONDS = 30


@pytest.fixture
def world():
    de, en = f.locale("de-DE"), f.locale("en-US")
    key = f.template_key("alarm_set.confirm", source=en, parameters=[{"name": "count", "type": "number"}])
    text = f.template_text(key, de, "{count, plural, one {# Wecker} other {# Wecker}} gestellt.", status="approved")
    pipeline = f.member("pipeline", None, username="pipe")
    token, plaintext = f.token(pipeline, scopes=["culture:read", "locales:read"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    return {"de": de, "key": key, "text": text, "user": pipeline, "token": token, "client": client}


def render(client, tag="de-DE", count=2):
    return client.post(RENDER, {"locale": tag, "parameters": {"count": count}}, format="json")


def other_process_bumps(name):
    """What another process's service does to this one: the shared counter moves, this
    process's copies are not touched."""
    generations.counters().bump(generations.KEY_PREFIX + name)


def test_a_warm_render_asks_the_database_nothing(world, django_assert_num_queries):
    assert render(world["client"]).json()["text"] == "2 Wecker gestellt."
    with django_assert_num_queries(0):
        response = render(world["client"], count=1)
    assert response.status_code == 200 and response.json()["text"] == "1 Wecker gestellt."


def test_copies_off_every_request_reads_the_database(world, settings, django_assert_max_num_queries):
    settings.PARLEY_READ_CACHE_SECONDS = 0
    render(world["client"])
    with django_assert_max_num_queries(20) as queries:
        assert render(world["client"]).status_code == 200
    assert len(queries) >= 4  # token, role scopes, locale, templates: nothing kept


def test_revoking_a_token_is_seen_on_the_next_request(world):
    assert render(world["client"]).status_code == 200
    token_revoke(token=world["token"], actor="test")
    response = render(world["client"])
    assert response.status_code == 401 and "revoked" in str(response.json())


def test_a_revocation_in_another_process_is_seen_through_the_shared_counter(world):
    assert render(world["client"]).status_code == 200
    ApiToken.objects.filter(pk=world["token"].pk).update(revoked_at=timezone.now())  # the other process's write
    assert render(world["client"]).status_code == 200  # this process still trusts its copy...
    other_process_bumps("access")
    assert render(world["client"]).status_code == 401  # ...until the counter moves


def test_a_write_that_bypassed_the_services_is_seen_within_the_time_limit(world, monkeypatch, settings):
    assert render(world["client"]).status_code == 200
    ApiToken.objects.filter(pk=world["token"].pk).update(revoked_at=timezone.now())
    assert render(world["client"]).status_code == 200
    clock = generations.time.monotonic() + settings.PARLEY_READ_CACHE_SECONDS + 1
    monkeypatch.setattr(generations.time, "monotonic", lambda: clock)
    assert render(world["client"]).status_code == 401


def test_losing_a_membership_closes_the_locale_on_the_next_request(world):
    linguist = f.member("linguist", world["de"], username="ling")
    _token, plaintext = f.token(linguist, scopes=["culture:read"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    assert render(client).status_code == 200
    membership_revoke(membership=Membership.objects.get(user=linguist), actor="test")
    assert render(client).status_code in (403, 404)


def test_a_user_deactivated_in_the_admin_loses_their_tokens_at_once(world):
    assert render(world["client"]).status_code == 200
    admin = APIClient()
    admin.force_login(f.user("root", superuser=True))
    user = world["user"]
    page = admin.post(f"/admin/auth/user/{user.pk}/change/", {
        "username": user.username, "is_superuser": "", "email": "", "first_name": "", "last_name": "",
        "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0", "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00"})
    assert page.status_code == 302, page.content.decode()[:2000]
    user.refresh_from_db()
    assert not user.is_active
    response = render(world["client"])
    assert response.status_code == 401 and "inactive" in str(response.json())


def test_approving_and_reopening_a_text_changes_the_next_render(world):
    de = world["de"]
    at = f.locale("de-AT")
    locale_parent_set(locale=at, parent=de, actor="test")
    assert render(world["client"], "de-AT").json()["locale"] == "de-DE"
    own = f.template_text(world["key"], at, "{count} Wecka gstellt.", status="approved")
    assert render(world["client"], "de-AT").json()["text"] == "2 Wecka gstellt."
    template_status_change(template=own, to="draft", actor="test")
    assert render(world["client"], "de-AT").json()["locale"] == "de-DE"


def test_a_new_parent_changes_the_chain_at_once(world):
    at = f.locale("de-AT")
    assert locale_fallback_chain(locale=at)[:2] == ["de-AT", "de"]
    locale_parent_set(locale=at, parent=world["de"], actor="test")
    assert locale_fallback_chain(locale=locale_resolve("de-AT"))[:2] == ["de-AT", "de-DE"]


def test_inside_a_transaction_the_database_is_read_and_nothing_is_kept(world):
    at = f.locale("de-AT")
    locale_resolve("de-AT")  # fills this process's copy of the registry
    with transaction.atomic():
        # The registry row changes inside this transaction; reads here must see it...
        at.parent = world["de"]
        at.save(update_fields=["parent"])
        assert locale_fallback_chain(locale=at)[:2] == ["de-AT", "de-DE"]
        transaction.set_rollback(True)
    # ...and the rolled-back row never reached the copy.
    assert locale_fallback_chain(locale=locale_resolve("de-AT"))[:2] == ["de-AT", "de"]


def test_copies_are_off_by_default_without_shared_counters(world, settings, django_assert_max_num_queries):
    settings.PARLEY_READ_CACHE_SECONDS = None
    settings.REDIS_URL = ""
    assert generations.copies_seconds() == 0  # several workers could not see each other's bumps
    render(world["client"])
    with django_assert_max_num_queries(20) as queries:
        assert render(world["client"]).status_code == 200
    assert len(queries) >= 4
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"
    assert generations.copies_seconds() == 30


def test_the_after_commit_bump_drops_a_copy_refilled_while_the_write_was_open(
        world, django_capture_on_commit_callbacks):
    assert render(world["client"]).status_code == 200
    token = world["token"]
    with django_capture_on_commit_callbacks(execute=False) as after_commit:
        token_revoke(token=token, actor="test")  # the first bump: copies dropped
        # Another process reloads before the revocation commits, so it still sees the old row:
        ApiToken.objects.filter(pk=token.pk).update(revoked_at=None)
        assert render(world["client"]).status_code == 200  # a copy of the old row, at the new count
        ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())  # ...then the commit
    assert render(world["client"]).status_code == 200  # that copy is still trusted...
    for callback in after_commit:
        callback()  # ...until the bump after commit
    assert render(world["client"]).status_code == 401


def test_a_token_s_scopes_changed_by_one_caller_are_not_seen_by_the_next(world):
    from parley.access.services import token_authenticate

    plaintext = world["client"]._credentials["HTTP_AUTHORIZATION"].split()[1]
    first = token_authenticate(plaintext)
    first.scopes.append("tokens:admin")
    first.user.is_superuser = True
    again = token_authenticate(plaintext)
    assert "tokens:admin" not in again.scopes and not again.user.is_superuser
    locale = locale_resolve("de-DE")
    locale.plural_cardinal.append("zero")
    assert "zero" not in locale_resolve("de-DE").plural_cardinal


def test_deleting_a_key_or_an_alias_in_the_admin_is_seen_at_once(world):
    from parley.locales.models import LocaleAlias

    alias = f.alias(world["de"], "ger")
    assert locale_resolve("ger").tag == "de-DE" and render(world["client"]).status_code == 200
    admin = APIClient()
    admin.force_login(f.user("root", superuser=True))
    assert admin.post(f"/admin/locales/localealias/{alias.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not LocaleAlias.objects.filter(pk=alias.pk).exists()
    with pytest.raises(Exception):
        locale_resolve("ger")
    key = world["key"]
    assert admin.post(f"/admin/culture/templatekey/{key.pk}/delete/", {"post": "yes"}).status_code == 302
    assert render(world["client"]).status_code == 404


def test_copies_dropped_during_an_outage_are_not_trusted_again_after_it(world, monkeypatch):
    assert render(world["client"]).status_code == 200
    real_read = type(generations.counters()).read

    def down(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(type(generations.counters()), "read", down)
    assert render(world["client"]).status_code == 200  # from the database
    ApiToken.objects.filter(pk=world["token"].pk).update(revoked_at=timezone.now())  # its bump is lost
    monkeypatch.setattr(type(generations.counters()), "read", real_read)  # Redis is back, counter unchanged
    assert render(world["client"]).status_code == 401


@pytest.mark.redis
def test_with_redis_the_counters_are_shared_redis_keys(world, settings):
    import redis

    assert type(generations.counters()).__name__ == "_RedisCounters"
    assert render(world["client"]).status_code == 200
    ApiToken.objects.filter(pk=world["token"].pk).update(revoked_at=timezone.now())
    assert render(world["client"]).status_code == 200
    # Another process's bump, through its own connection to Redis.
    redis.Redis.from_url(settings.REDIS_URL).incr(generations.KEY_PREFIX + "access")
    assert render(world["client"]).status_code == 401


def test_an_unreadable_counter_means_reading_the_database(world, monkeypatch):
    render(world["client"])

    def down(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(type(generations.counters()), "read", down)
    assert render(world["client"]).status_code == 200  # during the outage...
    # ...another process revokes (its bump is lost to the outage): nothing here may trust a copy.
    ApiToken.objects.filter(pk=world["token"].pk).update(revoked_at=timezone.now())
    assert render(world["client"]).status_code == 401


def test_a_counter_that_vanished_comes_back_at_a_value_no_copy_was_read_with(world):
    generations.counters().forget(generations.KEY_PREFIX + "access")
    render(world["client"])  # the copy is read with the counter's first value
    generations.counters().forget(generations.KEY_PREFIX + "access")  # Redis restarted
    ApiToken.objects.filter(pk=world["token"].pk).update(revoked_at=timezone.now())
    assert render(world["client"]).status_code == 401


def test_resolved_locales_are_fresh_instances(world):
    first = locale_resolve("de-DE")
    first.english_name = "changed by a caller"
    assert locale_resolve("de-DE").english_name != "changed by a caller"

