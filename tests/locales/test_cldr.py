"""CLDR-derived facts: tags, plural categories, direction, parents (no database)."""
import pytest

from parley.locales import cldr


@pytest.mark.parametrize("raw, canonical", [
    ("tl-PH", "fil-PH"),      # Tagalog code → CLDR's Filipino locale
    ("iw-IL", "he-IL"),       # withdrawn code
    ("jw-ID", "jv-ID"),
    ("en_us", "en-US"),       # POSIX separator and case
    ("zh-hant-tw", "zh-Hant-TW"),
    ("sl-SL", "sl-SL"),       # valid tag (Sierra Leone): only an alias maps it to sl-SI
])
def test_canonical_tag_normalizes_case_and_deprecated_codes(raw, canonical):
    assert cldr.canonical_tag(raw) == canonical


@pytest.mark.parametrize("bad", ["", "english", "en--US", "12-34", "und"])
def test_invalid_tags_are_rejected(bad):
    with pytest.raises(cldr.InvalidTag):
        cldr.canonical_tag(bad)


@pytest.mark.parametrize("tag, cardinal", [
    ("ru-RU", ["one", "few", "many", "other"]),
    ("ar-SA", ["zero", "one", "two", "few", "many", "other"]),
    ("ja-JP", ["other"]),
    ("cy-GB", ["zero", "one", "two", "few", "many", "other"]),
    ("de-DE", ["one", "other"]),
])
def test_cardinal_plural_categories_follow_cldr(tag, cardinal):
    assert cldr.locale_facts(tag).plural_cardinal == cardinal


def test_ordinal_categories_differ_from_cardinal_where_cldr_says_so():
    assert cldr.locale_facts("en-US").plural_ordinal == ["one", "two", "few", "other"]
    assert cldr.locale_facts("cy-GB").plural_ordinal == ["zero", "one", "two", "few", "many", "other"]
    assert cldr.locale_facts("ru-RU").plural_ordinal == ["other"]


@pytest.mark.parametrize("tag", ["ar-SA", "fa-IR", "he-IL", "ur-PK", "pa-Arab-PK"])
def test_right_to_left_locales(tag):
    assert cldr.locale_facts(tag).direction == "rtl"


@pytest.mark.parametrize("tag", ["en-US", "ja-JP", "hi-IN", "pa-IN", "am-ET"])
def test_left_to_right_locales(tag):
    assert cldr.locale_facts(tag).direction == "ltr"


def test_week_calendar_names_and_population():
    facts = cldr.locale_facts("fa-IR")
    assert facts.first_day_of_week == "sat"
    assert facts.calendar == "persian"
    assert cldr.locale_facts("th-TH").calendar == "buddhist"
    assert cldr.locale_facts("de-DE").first_day_of_week == "mon"
    assert cldr.locale_facts("en-US").first_day_of_week == "sun"
    ja = cldr.locale_facts("ja-JP")
    assert (ja.english_name, ja.autonym, ja.script) == ("Japanese (Japan)", "日本語 (日本)", "Jpan")
    assert ja.speaker_population and ja.speaker_population > 100_000_000


def test_language_unknown_to_babel_still_gets_names_and_direction():
    facts = cldr.locale_facts("nap")  # Neapolitan: no CLDR locale data, but name data exists
    assert facts.english_name == "Neapolitan"
    assert facts.direction == "ltr"
    assert facts.plural_cardinal == []  # unknown: a linguist fills it in, we do not guess


@pytest.mark.parametrize("tag, parent", [
    ("es-MX", "es-419"), ("es-419", "es"), ("es", "und"),
    ("pt-PT", "pt"), ("en-IN", "en-001"), ("en-001", "en"),
    ("zh-Hant-TW", "zh-Hant"), ("zh-Hant", "und"),  # never falls back into Simplified
    ("sr-Latn", "und"), ("sr-Cyrl", "sr"),
])
def test_cldr_parent(tag, parent):
    assert cldr.cldr_parent(tag) == parent


def test_bootstrap_candidates_are_ranked_unique_and_valid():
    tags = cldr.bootstrap_candidates(1000)
    assert len(tags) == len(set(tags)) == 1000
    assert tags[:3] == ["en", "zh", "hi"]
    assert all(cldr.canonical_tag(t) == t for t in tags)


@pytest.mark.parametrize("tag, parent", [("zh-HK", "zh-Hant"), ("pa-PK", "pa-Arab"), ("az-IR", "az-Arab")])
def test_region_in_a_non_default_script_falls_back_to_language_script(tag, parent):
    assert cldr.cldr_parent(tag) == parent
