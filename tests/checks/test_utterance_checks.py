"""Each utterance check fires on its rule and stays silent otherwise; one parse per utterance."""
import pytest

import factories as f
from parley.checks.registry import Severity, checks_evaluate, checks_evaluate_many, registry
from parley.nlu import annotation as notation
from parley.nlu import checks as nlu_checks

pytestmark = pytest.mark.django_db

GOOD = "wake me up at [time : five am]"


@pytest.fixture
def alarm():
    f.intent("weather_query", "weather", slots=["place_name"])  # a known type the alarm intent does not allow
    return f.intent("alarm_set", "alarm", slots=["time", "date"])


def findings_for(utt, check_id=None):
    found = checks_evaluate(utt, applies_to="utterance", locale=utt.locale)
    return [x for x in found if check_id is None or x.check_id == check_id]


def test_a_clean_utterance_has_no_findings(alarm):
    assert findings_for(f.utterance(f.locale("en-US"), alarm, GOOD)) == []


@pytest.mark.parametrize("annotated, code, position", [
    ("wake me up at [time : five am", "unbalanced_bracket", 14),
    ("wake me up at time : five am]", "unbalanced_bracket", 28),
    ("wake me up at [time : [date : five] am]", "nested_bracket", 22),
    ("wake me up at [time five am]", "missing_separator", 14),
    ("wake me up at [ : five am]", "empty_slot_type", 15),
    ("wake me up at [ti me : five am]", "invalid_slot_type", 15),
    ("wake me up at [time :  ]", "empty_value", 22),
])
def test_annotation_syntax_reports_each_parser_error_with_its_position(alarm, annotated, code, position):
    utt = f.utterance(f.locale("en-US"), alarm, annotated, text="wake me up at five am")
    found = findings_for(utt, "utterance.annotation_syntax")
    assert (found[0].code, found[0].position, found[0].field, found[0].severity) == (
        code, position, "annotated", Severity.ERROR)
    parser_error = notation.parse(annotated, utt=utt.text).errors[0]
    assert found[0].message == parser_error.message  # the parser's words, positions included


def test_slot_type_known(alarm):
    utt = f.utterance(f.locale("en-US"), alarm, "wake me up at [hour : five am]")
    [finding] = findings_for(utt, "utterance.slot_type_known")
    assert (finding.code, finding.position, finding.severity) == ("unknown_slot_type", 15, Severity.ERROR)
    assert "'hour'" in finding.message
    assert findings_for(f.utterance(f.locale("en-US"), alarm, GOOD), "utterance.slot_type_known") == []


def test_text_matches_annotation_points_into_the_text(alarm):
    utt = f.utterance(f.locale("en-US"), alarm, GOOD, text="wake me up at six am")
    [finding] = findings_for(utt, "utterance.text_matches_annotation")
    assert (finding.code, finding.field, finding.position) == ("text_mismatch", "text", 14)
    assert findings_for(f.utterance(f.locale("en-US"), alarm, GOOD), "utterance.text_matches_annotation") == []


def test_token_count_catches_a_slot_boundary_inside_a_word(alarm):
    utt = f.utterance(f.locale("en-US"), alarm, "wake me up at [time : five]am")
    [finding] = findings_for(utt, "utterance.token_count")
    assert (finding.code, finding.field, finding.position, finding.severity) == (
        "token_count_mismatch", "text", 14, Severity.ERROR)
    assert findings_for(utt, "utterance.text_matches_annotation") == []  # the text itself matches


def test_token_count_counts_characters_for_japanese(alarm):
    ja = f.locale("ja-JP")
    assert findings_for(f.utterance(ja, alarm, "[date : 今週]の[time : 午前五時]に起こして"), "utterance.token_count") == []


def test_slot_allowed_warns_for_a_known_type_the_intent_does_not_allow(alarm):
    utt = f.utterance(f.locale("en-US"), alarm, "wake me up in [place_name : paris]")
    [finding] = findings_for(utt)
    assert (finding.check_id, finding.severity, finding.position) == ("utterance.slot_allowed", Severity.WARNING, 15)


def test_slot_value_whitespace_warns(alarm):
    utt = f.utterance(f.locale("en-US"), alarm, "wake me up at [time :  five am]")
    [finding] = findings_for(utt)
    assert (finding.check_id, finding.severity, finding.code, finding.position) == (
        "utterance.slot_value_whitespace", Severity.WARNING, "value_whitespace", 22)


def test_every_parser_issue_code_belongs_to_exactly_one_check():
    codes = {getattr(notation, name) for name in notation.__all__ if name.isupper() and name not in
             ("OPEN", "CLOSE", "SEPARATOR", "CHAR_SPLIT_LANGUAGES")}
    owners = [code for check in registry.for_kind("utterance") for code in getattr(check, "codes", ())]
    assert sorted(owners) == sorted(codes)  # none dropped, none reported twice


def test_the_checks_parse_each_utterance_once_and_load_the_vocabulary_once_per_run(
        alarm, monkeypatch, django_assert_num_queries):
    en = f.locale("en-US")
    utterances = [f.utterance(en, alarm, GOOD), f.utterance(en, alarm, "at [time : six]"),
                  f.utterance(en, alarm, "at [hour : six]")]
    calls = []
    real_parse = notation.parse
    monkeypatch.setattr(notation, "parse", lambda *a, **kw: calls.append(a) or real_parse(*a, **kw))
    # slot types, allowed slot types by intent, the locale's script (spaces between words or not)
    # and (culture) the locale's sensitive terms: once per run and locale, not per utterance
    with django_assert_num_queries(4):
        out = list(checks_evaluate_many([(u, en) for u in utterances], applies_to="utterance"))
    assert len(calls) == 3
    assert [[x.check_id for x in found] for _u, _tag, found in out] == [[], [], ["utterance.slot_type_known"]]


def test_an_importer_can_switch_off_the_unknown_slot_type_rule(alarm):
    en = f.locale("en-US")
    utt = f.utterance(en, alarm, "at [hour : six]")
    [(_u, _tag, found)] = checks_evaluate_many([(utt, en)], applies_to="utterance",
                                              shared={nlu_checks.SLOT_TYPES_KEY: None})
    assert [x.check_id for x in found] == ["utterance.slot_allowed"]


def test_an_edit_is_evaluated_without_touching_the_utterance(alarm):
    utt = f.utterance(f.locale("en-US"), alarm, GOOD)
    weather = f.intent("weather_query", "weather")
    built, found = nlu_checks.utterance_edit_evaluate(utterance=utt, annotated="in [place_name : paris]",
                                                      intent=weather)
    assert built.text == "in paris" and found == []
    assert (utt.annotated, utt.text, utt.intent) == (GOOD, "wake me up at five am", alarm)
