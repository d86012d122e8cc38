"""Registry services and selectors: resolution, fallback chains, lifecycle, bootstrap."""
import pytest
from django.core.exceptions import ValidationError

import factories as f
from parley.events.models import Event
from parley.locales.models import Locale
from parley.locales.selectors import (UnknownLocale, locale_export_tag, locale_fallback_chain,
                                      locale_resolve, locale_unregistered)
from parley.locales.services import (locale_parent_set, locale_status_change, locale_update,
                                     locales_bootstrap)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("source_tag, canonical", [("sl-SL", "sl-SI"), ("tl-PH", "fil-PH"), ("zh-TW", "zh-Hant-TW")])
def test_alias_resolves_and_round_trips(source_tag, canonical):
    loc = f.locale(canonical)
    f.alias(loc, source_tag)
    assert locale_resolve(source_tag) == loc
    assert locale_resolve(source_tag.lower()) == loc
    assert locale_resolve(canonical) == loc
    assert locale_export_tag(locale=loc, source="massive") == source_tag
    assert locale_export_tag(locale=loc, source="slurp") == canonical  # no alias: canonical tag


def test_resolving_deprecated_code_reaches_canonical_locale():
    fil = f.locale("fil-PH")
    assert locale_resolve("tl-PH") == fil  # even without an alias, through langcodes


def test_unknown_tag_is_reported():
    with pytest.raises(UnknownLocale):
        locale_resolve("xx-YY")
    with pytest.raises(UnknownLocale):
        locale_resolve("not a tag")


@pytest.mark.parametrize("tag, chain", [
    ("es-MX", ["es-MX", "es-419", "es", "und"]),
    ("pt-PT", ["pt-PT", "pt", "und"]),
    ("en-IN", ["en-IN", "en-001", "en", "und"]),
    ("zh-Hant-TW", ["zh-Hant-TW", "zh-Hant", "und"]),
])
def test_fallback_chain_follows_cldr(tag, chain):
    assert locale_fallback_chain(locale=f.locale(tag)) == chain


def test_explicit_parent_overrides_cldr_and_cycles_are_rejected():
    gsw = f.locale("gsw-CH")
    de_ch = f.locale("de-CH")
    locale_parent_set(locale=gsw, parent=de_ch, actor="test")
    assert locale_fallback_chain(locale=gsw) == ["gsw-CH", "de-CH", "de", "und"]
    with pytest.raises(ValidationError, match="loops"):
        locale_parent_set(locale=de_ch, parent=gsw, actor="test")
    de_ch.refresh_from_db()
    assert de_ch.parent is None  # the refused change was rolled back
    with pytest.raises(ValidationError):
        locale_parent_set(locale=gsw, parent=gsw, actor="test")


def test_status_lifecycle_writes_events_and_refuses_skips():
    loc = f.locale("sw-KE")
    assert loc.status == Locale.Status.PLANNED
    actor = f.user("lead")
    locale_status_change(locale=loc, status="collecting", actor=actor, reason="campaign opened")
    event = Event.objects.filter(verb="locale.status_changed").get()
    assert (event.actor, event.locale_tag, event.payload["from"], event.payload["to"]) == (
        actor, "sw-KE", "planned", "collecting")
    with pytest.raises(ValidationError, match="cannot go from collecting to launched"):
        locale_status_change(locale=loc, status="launched", actor=actor)
    loc.refresh_from_db()
    assert loc.status == "collecting"
    assert Event.objects.filter(verb="locale.status_changed").count() == 1


def test_edited_cldr_fields_become_overrides():
    loc = f.locale("de-DE")
    locale_update(locale=loc, actor="test", first_day_of_week="sun")
    loc.refresh_from_db()
    assert loc.first_day_of_week == "sun" and loc.overridden_fields == ["first_day_of_week"]
    with pytest.raises(ValidationError):
        locale_update(locale=loc, actor="test", status="launched")


@pytest.mark.parametrize(
    "tag", ["ja-JP", "JA-jp", "ja_JP", "ja", "zh", "zh-CN", "zh-TW", "zh-Hans-CN", "zh-Hant-TW", "zh-HK", "yue",
            # CLDR's "LB letters" scripts beyond MASSIVE's three: Thai, Khmer, Lao, Myanmar
            "th-TH", "km-KH", "lo-LA", "my-MM"])
def test_locales_of_scripts_written_without_spaces(tag):
    assert locale_unregistered(tag).writes_without_spaces  # what registering the tag gives
    assert f.locale(locale_unregistered(tag).tag).writes_without_spaces


@pytest.mark.parametrize("tag", ["en-US", "ar-SA", "ko-KR", "jv-ID", "zu", "sr-Latn", "bo-CN", "ja-Latn-JP"])
def test_locales_written_with_spaces(tag):
    assert not locale_unregistered(tag).writes_without_spaces
    assert not f.locale(locale_unregistered(tag).tag).writes_without_spaces


def test_the_registry_s_script_decides_so_a_linguist_s_override_wins():
    ja, pali = f.locale("ja-JP"), f.locale("pi-TH")  # CLDR: ja in Jpan, Pali in Latin script
    assert ja.writes_without_spaces and not pali.writes_without_spaces
    locale_update(locale=ja, actor="test", script="Latn")  # romanized Japanese
    locale_update(locale=pali, actor="test", script="Thai")  # Pali as Thailand writes it
    assert not locale_resolve("ja-JP").writes_without_spaces and locale_resolve("pi-TH").writes_without_spaces
    assert Locale.objects.get(tag="pi-TH").overridden_fields == ["script"]


def test_bootstrap_of_1000_languages():
    f.locale("en")  # already registered: kept as it is
    result = locales_bootstrap(top=1000, actor="test")
    assert result == {"requested": 1000, "created": 999, "existing": 1}
    assert Locale.objects.count() == 1000
    assert set(Locale.objects.values_list("status", flat=True)) == {"planned"}
    yue = Locale.objects.get(tag="yue")
    assert (yue.english_name, yue.autonym) == ("Cantonese", "粵語")
    assert Locale.objects.get(tag="ar").direction == "rtl"
    # Idempotent: a second run creates nothing.
    assert locales_bootstrap(top=1000, actor="test")["created"] == 0
