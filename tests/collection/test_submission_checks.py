"""Each submission check: errors block a submission, warnings are stored and the utterance goes on."""
import pytest
from django.core.exceptions import ValidationError

import factories as f
from parley.checks.models import CheckResult
from parley.checks.registry import CheckContext, checks_evaluate, registry
from parley.collection import scripts
from parley.collection.checks import LOCALIZE_SOURCE_KEY
from parley.collection.models import Task
from parley.collection.services import submission_evaluate, task_claim_next, task_submit_utterance
from parley.nlu.models import Utterance
from parley.nlu.normalize import normalize_text

pytestmark = pytest.mark.django_db


def candidate(loc, intent, text, source="collected"):
    return Utterance(locale=loc, intent=intent, annotated=text, text=text, source=source)


def found(obj, check_id, **shared):
    return [x for x in checks_evaluate(obj, applies_to="utterance", locale=obj.locale.tag,
                                       context=CheckContext(shared=shared)) if x.check_id == check_id]


def test_collection_checks_are_registered_utterance_checks():
    ids = {c.id for c in registry.for_kind("utterance")}
    assert {"utterance.script_matches_locale", "utterance.arabic_script_letters", "utterance.localize_unchanged",
            "utterance.duplicate_in_locale", "utterance.too_short", "utterance.length_unusual",
            "utterance.collected_slot_allowed",
            "utterance.annotation_syntax", "utterance.slot_allowed"} <= ids


@pytest.mark.parametrize("tag, text, wrong", [
    ("ja-JP", "明日の天気を教えて", False),  # kanji + hiragana
    ("ja-JP", "アラームをセットして", False),  # katakana
    ("ja-JP", "ashita no tenki", True),  # romaji is not Japanese script
    ("ja-JP", "Spotifyで音楽をかけて", False),  # a brand name in Latin letters is a minority
    ("ar-SA", "أيقظني الساعة الخامسة", False),
    ("ar-SA", "wake me up at five", True),
    ("sr-Latn-RS", "probudi me u pet", False),
    ("sr-Latn-RS", "пробуди ме у пет", True),  # Cyrillic in a Latin-script locale
    ("sr-RS", "пробуди ме у пет", False),  # sr-RS is Cyrillic by CLDR
    ("sr-RS", "probudi me u pet", True),
    ("ko-KR", "내일 날씨 알려줘", False),
    ("ko-KR", "あしたのてんきをおしえて", True),  # kana are not Korean (Hanja count as Korean: a stated limit)
])
def test_script_matches_locale(tag, text, wrong):
    loc = f.locale(tag)
    intent = f.intent("weather_query", "weather")
    assert bool(found(candidate(loc, intent, text), "utterance.script_matches_locale")) is wrong


def test_script_check_ignores_other_sources_and_digits():
    loc = f.locale("ja-JP")
    intent = f.intent("weather_query", "weather")
    assert found(candidate(loc, intent, "ashita no tenki", source="massive"), "utterance.script_matches_locale") == []
    assert found(candidate(loc, intent, "5時 12:30"), "utterance.script_matches_locale") == []
    assert scripts.script_of("あ") == "Hira" and scripts.script_of("ش") == "Arab" and scripts.script_of("1") == ""


def test_arabic_and_persian_letters_are_told_apart_as_warnings():
    ar, fa = f.locale("ar-SA"), f.locale("fa-IR")
    intent = f.intent("weather_query", "weather")
    persian_in_arabic = found(candidate(ar, intent, "هوای فردا چگونه است"), "utterance.arabic_script_letters")
    assert persian_in_arabic and persian_in_arabic[0].severity.value == "warning"
    assert found(candidate(ar, intent, "كيف الطقس غدا"), "utterance.arabic_script_letters") == []
    arabic_in_persian = found(candidate(fa, intent, "هواي فردا"), "utterance.arabic_script_letters")
    assert arabic_in_persian and "ي" in arabic_in_persian[0].message
    assert found(candidate(fa, intent, "هوای فردا چگونه است"), "utterance.arabic_script_letters") == []


def test_duplicate_in_locale_uses_the_normalized_form():
    ja = f.locale("ja-JP")
    intent = f.intent("weather_query", "weather")
    row = f.utterance(ja, intent, "明日の天気", source="massive")
    Utterance.objects.filter(pk=row.pk).update(normalized=normalize_text("明日の天気", locale=ja))  # as imports store it
    dup = found(candidate(ja, intent, "明日 の 天気。"), "utterance.duplicate_in_locale")
    assert dup and dup[0].is_error
    assert found(candidate(ja, intent, "明後日の天気"), "utterance.duplicate_in_locale") == []
    other = f.locale("en-US")
    assert found(candidate(other, intent, "明日の天気"), "utterance.duplicate_in_locale") == []


def test_too_short_is_an_error_and_one_word_or_very_long_a_warning():
    en = f.locale("en-US")
    intent = f.intent("weather_query", "weather")
    assert found(candidate(en, intent, "a?"), "utterance.too_short")[0].is_error
    assert found(candidate(en, intent, "ab"), "utterance.too_short") == []
    assert found(candidate(en, intent, "weather"), "utterance.length_unusual")[0].code == "one_word"
    long = " ".join(["word"] * 31)
    assert found(candidate(en, intent, long), "utterance.length_unusual")[0].code == "too_long"
    assert found(candidate(en, intent, "what is the weather"), "utterance.length_unusual") == []


def test_localize_unchanged_needs_the_source_in_the_context():
    en, gb = f.locale("en-US"), f.locale("en-GB")
    intent = f.intent("weather_query", "weather")
    source = f.utterance(en, intent, "what is the weather", source="massive")
    copy = candidate(gb, intent, "What is the weather?")
    assert found(copy, "utterance.localize_unchanged", **{LOCALIZE_SOURCE_KEY: source})[0].code == "unchanged_copy"
    assert found(copy, "utterance.localize_unchanged") == []
    assert found(candidate(gb, intent, "what's the weather like"), "utterance.localize_unchanged",
                 **{LOCALIZE_SOURCE_KEY: source}) == []


def test_submission_blocks_on_errors_and_stores_warnings(world):
    f.intent("weather_query", "weather", slots=["place_name"])
    task = task_claim_next(annotator=world["amal"])
    with pytest.raises(ValidationError) as refused:
        task_submit_utterance(task=task, annotator=world["amal"], annotated="wake me at [time : five]")
    assert "not in the Arab script" in str(refused.value)
    with pytest.raises(ValidationError, match="position"):
        task_submit_utterance(task=task, annotator=world["amal"], annotated="أيقظني [time الخامسة]")
    with pytest.raises(ValidationError, match="place_name"):  # another intent's slot: blocks a collected row
        task_submit_utterance(task=task, annotator=world["amal"], annotated="أيقظني [place_name : مكة]")
    assert Utterance.objects.filter(source="collected").count() == 0  # nothing half-written
    u = task_submit_utterance(task=task, annotator=world["amal"], annotated="[time : الخامسة]")
    stored = set(CheckResult.objects.filter(target_id=str(u.pk)).values_list("check_id", "severity"))
    assert stored == {("utterance.length_unusual", "warning")}  # one word: stored, shown, not blocking
    nxt = task_claim_next(annotator=world["amal"])
    with pytest.raises(ValidationError, match="says the same"):
        task_submit_utterance(task=nxt, annotator=world["amal"], annotated="[time : الخامسة]!")


def test_localize_task_refuses_the_source_unchanged_and_wants_slot_methods(world):
    en_gb = f.locale("en-GB")
    annotator = f.native(en_gb, "gwen")
    campaign = f.campaign([en_gb], [world["alarm"]], task_kinds=["localize"], source_locale=world["en"],
                          target_per_intent=1)
    task = task_claim_next(annotator=annotator, campaign=campaign)
    assert task.kind == "localize" and task.source == world["source"]
    _, findings = submission_evaluate(task=task, annotated="wake me up at [time : five am]")
    assert [x.check_id for x in findings if x.is_error] == ["utterance.localize_unchanged"]
    with pytest.raises(ValidationError, match="translated, localized or unchanged"):
        task_submit_utterance(task=task, annotator=annotator, annotated="knock me up at [time : five am]")
    with pytest.raises(ValidationError, match="not a slot"):
        task_submit_utterance(task=task, annotator=annotator, annotated="knock me up at [time : five am]",
                              slot_method=[{"slot": "date", "method": "unchanged"}])
    u = task_submit_utterance(task=task, annotator=annotator, annotated="knock me up at [time : five am]",
                              slot_method=[{"slot": "time", "method": "unchanged"}])
    assert u.provenance["slot_method"] == [{"slot": "time", "method": "unchanged"}]
    assert u.parallel_key == f"parley:{world['source'].pk}"
    assert Task.objects.filter(utterance=u, kind="validate").count() == 2
