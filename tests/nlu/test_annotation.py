"""MASSIVE slot notation: parse/serialize/BIO. Pure Python, no Django needed."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parley.nlu.annotation import (
    Annotation,
    AnnotationSyntaxError,
    Issue,
    Slot,
    from_bio,
    parse,
    plain_text,
    published_form,
    serialize,
    to_bio,
    token_count,
    tokenize,
)

# database=None: no example database written into the project tree.
FAST = settings(
    max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


def codes(issues: list[Issue]) -> list[str]:
    return [issue.code for issue in issues]


def only_error(result, code: str) -> Issue:
    assert codes(result.errors) == [code], result.errors
    return result.errors[0]


# --------------------------------------------------------------------------- real-shaped rows


def test_english_two_slots():
    utt = "wake me up at five am this week"
    annot = "wake me up at [time : five am] [date : this week]"
    result = parse(annot, utt=utt)
    assert result.ok and result.errors == [] and result.warnings == []
    assert result.annotation == Annotation(
        utt, (Slot("time", "five am", 14, 21), Slot("date", "this week", 22, 31))
    )
    for slot in result.annotation.slots:
        assert utt[slot.start:slot.end] == slot.value
    assert serialize(result.annotation) == annot


def test_japanese_no_spaces_around_brackets():
    annot = "[date : 明日]の[place_name : 東京]の天気は"
    utt = "明日の東京の天気は"
    result = parse(annot, utt=utt, char_split=True)
    assert result.ok, result.errors
    assert result.annotation.text == utt
    assert result.annotation.slots == (
        Slot("date", "明日", 0, 2),
        Slot("place_name", "東京", 3, 5),
    )
    assert serialize(result.annotation) == annot
    assert token_count(utt, char_split=True) == 9


def test_arabic():
    utt = "أيقظني الساعة الخامسة صباحا هذا الأسبوع"
    annot = "أيقظني [time : الساعة الخامسة صباحا] [date : هذا الأسبوع]"
    result = parse(annot, utt=utt)
    assert result.ok, result.errors
    assert [s.type for s in result.annotation.slots] == ["time", "date"]
    assert [utt[s.start:s.end] for s in result.annotation.slots] == [
        "الساعة الخامسة صباحا", "هذا الأسبوع"
    ]
    assert serialize(result.annotation) == annot


def test_many_slots_and_adjacent_slots():
    annot = "convert [currency_name : dollars] to [currency_name : euros] for [person : ann][date : today]"
    result = parse(annot, slot_types={"currency_name", "person", "date"})
    assert result.ok
    assert [(s.type, s.value) for s in result.annotation.slots] == [
        ("currency_name", "dollars"), ("currency_name", "euros"), ("person", "ann"),
        ("date", "today"),
    ]
    assert result.annotation.text == "convert dollars to euros for anntoday"
    assert serialize(result.annotation) == annot


def test_no_slots():
    result = parse("what's the weather like", utt="what's the weather like")
    assert result.ok
    assert result.annotation == Annotation("what's the weather like", ())
    assert parse("").annotation == Annotation("", ())


def test_value_containing_separator_splits_on_first():
    annot = "play [song_name : part one : the return] now"
    result = parse(annot, utt="play part one : the return now")
    assert result.ok, result.errors
    (slot,) = result.annotation.slots
    assert (slot.type, slot.value) == ("song_name", "part one : the return")
    assert serialize(result.annotation) == annot


def test_plain_text():
    assert plain_text("wake me up at [time : five am] [date : this week]") == (
        "wake me up at five am this week"
    )
    with pytest.raises(AnnotationSyntaxError) as info:
        plain_text("wake [time : five am")
    assert codes(info.value.issues) == ["unbalanced_bracket"]
    assert isinstance(info.value, ValueError)


def test_value_whitespace_is_kept_verbatim_with_a_warning():
    result = parse("at [time :  five am]")
    assert result.ok
    assert result.annotation.slots[0].value == " five am"
    assert codes(result.warnings) == ["value_whitespace"]
    assert result.warnings[0].position == 11
    assert serialize(result.annotation) == "at [time :  five am]"


# --------------------------------------------------------------------------- one test per code


def test_unbalanced_close_without_open():
    result = parse("wake me ] up")
    assert only_error(result, "unbalanced_bracket").position == 8
    assert result.annotation is None and not result.ok


def test_unbalanced_open_never_closed():
    result = parse("wake me up at [time : five am")
    assert only_error(result, "unbalanced_bracket").position == 14


def test_nested_bracket():
    result = parse("at [time : [date : five] am]")
    assert only_error(result, "nested_bracket").position == 11
    assert result.annotation is None


def test_missing_separator():
    for annot in ("at [time five am]", "at [time: five am]", "at [time :five am]", "at [time]"):
        result = parse(annot)
        assert only_error(result, "missing_separator").position == 3, annot


def test_empty_slot_type():
    result = parse("at [ : five am]")
    assert only_error(result, "empty_slot_type").position == 4
    assert result.annotation is None


def test_invalid_slot_type_with_whitespace():
    result = parse("at [time  : five am]")  # type would be "time "
    assert only_error(result, "invalid_slot_type").position == 4


def test_empty_value():
    assert only_error(parse("at [time : ]"), "empty_value").position == 11
    assert only_error(parse("at [time :    ]"), "empty_value").position == 11


def test_unknown_slot_type():
    result = parse("at [time : five am] [dat : today]", slot_types={"time", "date"})
    assert only_error(result, "unknown_slot_type").position == 21
    # Well-formed notation: the annotation is still returned, but not ok.
    assert result.annotation is not None and not result.ok


def test_slot_not_allowed_is_a_warning():
    result = parse(
        "at [time : five am] [date : today]",
        slot_types={"time", "date"},
        allowed_slot_types={"time"},
    )
    assert result.ok
    assert codes(result.warnings) == ["slot_not_allowed"]
    assert result.warnings[0].position == 21


def test_unknown_type_is_not_also_reported_as_not_allowed():
    result = parse("[x : y]", slot_types={"time"}, allowed_slot_types={"time"})
    assert codes(result.errors) == ["unknown_slot_type"]
    assert result.warnings == []


def test_text_mismatch_position_is_in_utt():
    result = parse("wake me at [time : five am]", utt="wake me at six am")
    assert codes(result.errors) == ["text_mismatch"]
    issue = result.errors[0]
    assert issue.position == 11 and "utt" in issue.message


def test_text_mismatch_when_utt_is_longer():
    result = parse("[time : five am]", utt="five am please")
    assert result.errors[0].code == "text_mismatch"
    assert result.errors[0].position == 7


def test_token_count_mismatch_english():
    # Text matches, but the slot ends inside a token: BIO tokens cannot line up with utt's.
    result = parse("call [person : john]'s phone", utt="call john's phone")
    issue = only_error(result, "token_count_mismatch")
    assert issue.position == 5 and "utt" in issue.message


def test_token_count_mismatch_english_reported_with_text_mismatch():
    result = parse("wake me at [time : five am]", utt="wake me at five")
    assert codes(result.errors) == ["text_mismatch", "token_count_mismatch"]
    assert result.errors[1].position == len("wake me at five")


def test_token_count_mismatch_japanese_counts_characters():
    # Same whitespace token count (1 vs 1) but one character fewer.
    result = parse("[date : 明日]の天気", utt="明日天気", char_split=True)
    assert codes(result.errors) == ["text_mismatch", "token_count_mismatch"]
    assert result.errors[1].position == 2


def test_japanese_slot_glued_to_text_needs_char_split():
    assert parse("[date : 明日]の天気", utt="明日の天気", char_split=True).ok
    # Without char split (a locale written with spaces), tokens are whitespace tokens and the slot ends inside one.
    result = parse("[date : 明日]の天気", utt="明日の天気")
    assert codes(result.errors) == ["token_count_mismatch"]


# --------------------------------------------------------------------------- reporting all


def test_reports_all_problems_in_position_order():
    result = parse("] [time five] [ : x] [date : ] [a : [b : c]] [open")
    assert [(i.code, i.position) for i in result.errors] == [
        ("unbalanced_bracket", 0),  # stray "]"
        ("missing_separator", 2),
        ("empty_slot_type", 15),
        ("empty_value", 29),
        ("nested_bracket", 36),
        ("unbalanced_bracket", 45),  # "[open" never closed
    ]
    assert result.annotation is None


def test_utt_checks_are_skipped_and_said_so_when_notation_is_broken():
    result = parse("wake [time five am]", utt="something else")
    assert codes(result.errors) == ["missing_separator"]
    assert "skipped" in result.errors[0].message


def test_non_string_input_is_a_type_error():
    with pytest.raises(TypeError):
        parse(None)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- locales/tokens


def test_char_split_tokens_are_characters_and_whitespace_tokens_otherwise():
    # Whether a locale is char split is the registry's answer (tests/locales, Locale.writes_without_spaces).
    assert token_count("明日 の天気", char_split=True) == 5
    assert token_count("  wake me\tup\u3000now ", char_split=True) == 11
    assert token_count("  wake me\tup\u3000now ") == 4


def test_tokenize():
    assert tokenize("a  b") == ["a", "b"]
    assert tokenize("明日 の", char_split=True) == ["明", "日", "の"]


# --------------------------------------------------------------------------- construction


def test_annotation_validates():
    with pytest.raises(ValueError):
        Annotation("a [b", ())
    with pytest.raises(ValueError):
        Annotation("abc", (Slot("x", "b", 0, 1),))  # offsets don't match the text
    with pytest.raises(ValueError):
        Annotation("abc", (Slot("x", "ab", 0, 2), Slot("y", "bc", 1, 3)))  # overlap
    with pytest.raises(ValueError):
        Slot("has space", "v", 0, 1)
    with pytest.raises(ValueError):
        Slot("x", " ", 0, 1)
    # Slots are stored sorted, so equality does not depend on construction order.
    a = Annotation("ab", [Slot("y", "b", 1, 2), Slot("x", "a", 0, 1)])
    assert a.slots == (Slot("x", "a", 0, 1), Slot("y", "b", 1, 2))


# --------------------------------------------------------------------------- BIO


def test_to_bio_english():
    a = parse("wake me up at [time : five am] [date : this week]").annotation
    assert to_bio(a) == [
        ("wake", "O"), ("me", "O"), ("up", "O"), ("at", "O"),
        ("five", "B-time"), ("am", "I-time"), ("this", "B-date"), ("week", "I-date"),
    ]
    assert from_bio(to_bio(a)) == a


def test_to_bio_japanese():
    a = parse("[date : 明日]の[place_name : 東京]の天気は").annotation
    pairs = to_bio(a, char_split=True)
    assert pairs[:4] == [("明", "B-date"), ("日", "I-date"), ("の", "O"), ("東", "B-place_name")]
    assert from_bio(pairs, char_split=True) == a


def test_from_bio_lenient_and_strict():
    # An I- tag that does not continue a slot of its type starts one (conlleval).
    a = from_bio([("a", "I-x"), ("b", "I-y"), ("c", "O")])
    assert [(s.type, s.value) for s in a.slots] == [("x", "a"), ("y", "b")]
    with pytest.raises(ValueError):
        from_bio([("a", "X-foo")])
    with pytest.raises(ValueError):
        from_bio([("a b", "O")])


# --------------------------------------------------------------------------- properties

slot_type_st = st.from_regex(r"[a-z][a-z0-9_]{0,14}", fullmatch=True)
text_char_st = st.characters(exclude_categories=("Cs",), exclude_characters="[]")
text_st = st.text(alphabet=text_char_st, max_size=12)
value_st = st.text(alphabet=text_char_st, min_size=1, max_size=12).filter(lambda v: v.strip())


@st.composite
def annotations(draw) -> Annotation:
    parts = draw(st.lists(st.tuples(text_st, st.none() | st.tuples(slot_type_st, value_st)),
                          max_size=5))
    text, slots = "", []
    for before, slot in parts:
        text += before
        if slot is not None:
            slot_type, value = slot
            slots.append(Slot(slot_type, value, len(text), len(text) + len(value)))
            text += value
    text += draw(text_st)
    return Annotation(text, tuple(slots))


@FAST
@given(annotations())
def test_roundtrip_parse_serialize(annotation):
    s = serialize(annotation)
    result = parse(s, utt=annotation.text)
    assert result.annotation == annotation
    assert all(issue.code != "text_mismatch" for issue in result.errors)
    assert serialize(result.annotation) == s
    assert plain_text(s) == annotation.text


@FAST
@given(annotations(), st.booleans())
def test_token_count_rule_matches_counting_bio_tokens(annotation, char_split):
    # parse() decides the common case from slot boundaries alone; it must agree with the rule
    # as MASSIVE states it: the annotation's tokens (per slot value) count as many as utt's.
    result = parse(serialize(annotation), utt=annotation.text, char_split=char_split)
    mismatch = len(to_bio(annotation, char_split=char_split)) != token_count(annotation.text, char_split=char_split)
    assert any(i.code == "token_count_mismatch" for i in result.errors) == mismatch


def _check_never_raises(s: str, utt: str | None, char_split: bool) -> None:
    result = parse(s, utt=utt, slot_types={"time", "date"}, allowed_slot_types={"time"},
                   char_split=char_split)
    assert result.ok == (not result.errors)
    for issue in result.errors + result.warnings:
        assert isinstance(issue.code, str) and issue.message
        assert issue.position is None or 0 <= issue.position <= max(len(s), len(utt or ""))
    if result.annotation is not None and not char_split:
        # Anything accepted as well formed serializes back to the exact input.
        assert serialize(result.annotation) == s
    elif result.annotation is not None:
        # Written without spaces: the notation spaces are not text, so the spaced form and the
        # published form stand for the same annotation.
        spaced = serialize(result.annotation, spaced=True)
        if utt is None:
            assert parse(spaced, char_split=True).annotation == result.annotation
            assert parse(published_form(s), char_split=True).annotation == result.annotation
    else:
        assert result.errors


@FAST
@given(st.text(), st.none() | st.text(), st.booleans())
def test_parse_never_raises_on_arbitrary_text(s, utt, char_split):
    _check_never_raises(s, utt, char_split)


# Single characters, plus fragments so that well-formed slots (e.g. "[time : a]", or built from
# "[", "time", " : ", "a", "]") come up often enough to exercise the accepting paths too.
bracket_heavy_st = st.text(alphabet="[[]]:: ::  ab明\t", max_size=40) | st.lists(
    st.sampled_from(
        ["[", "]", "[", "]", " : ", ":", " ", "  ", "time", "a", "明", "\t", "[time : a]"]
    ),
    max_size=25,
).map("".join)


@FAST
@given(
    bracket_heavy_st,
    st.none() | st.text(alphabet=st.sampled_from(list(" ab明:")), max_size=10),
    st.booleans(),
)
def test_parse_never_raises_on_bracket_heavy_text(s, utt, char_split):
    _check_never_raises(s, utt, char_split)


token_char_st = st.characters(
    exclude_categories=("Cs", "Cc", "Zs", "Zl", "Zp"), exclude_characters="[]"
).filter(lambda c: not c.isspace())


@st.composite
def bio_annotations(draw, char_split: bool) -> Annotation:
    """Annotations whose text is tokens joined by single spaces (or nothing for ja/zh) with
    slots on whole tokens: the documented domain of the BIO round trip."""
    token_st = token_char_st if char_split else st.text(token_char_st, min_size=1, max_size=6)
    separator = "" if char_split else " "
    groups = draw(st.lists(
        st.tuples(st.none() | slot_type_st, st.lists(token_st, min_size=1, max_size=3)),
        max_size=6,
    ))
    text, slots = "", []
    for slot_type, tokens in groups:
        if text:
            text += separator
        value = separator.join(tokens)
        if slot_type is not None:
            slots.append(Slot(slot_type, value, len(text), len(text) + len(value)))
        text += value
    return Annotation(text, tuple(slots))


@FAST
@given(bio_annotations(char_split=False))
def test_bio_roundtrip_whitespace(annotation):
    pairs = to_bio(annotation)
    assert len(pairs) == token_count(annotation.text)
    assert from_bio(pairs) == annotation


@FAST
@given(bio_annotations(char_split=True))
def test_bio_roundtrip_characters(annotation):
    pairs = to_bio(annotation, char_split=True)
    assert len(pairs) == len(annotation.text)
    assert from_bio(pairs, char_split=True) == annotation


# --------------------------------------------------------------------------- scripts written without spaces


def test_spaced_chinese_row_as_massive_publishes_it():
    # issue 14: MASSIVE's zh-CN row, refused before as "text_mismatch at 2"
    result = parse("[date : 这周] [time : 五点] 叫我起床", utt="这周五点叫我起床", char_split=True)
    assert result.ok, result.errors
    assert result.annotation == Annotation("这周五点叫我起床", (Slot("date", "这周", 0, 2), Slot("time", "五点", 2, 4)))
    assert serialize(result.annotation, spaced=True) == "[date : 这周] [time : 五点] 叫我起床"


def test_unspaced_japanese_and_utt_keeping_some_of_the_spaces_are_accepted_too():
    assert parse("[date : 明日]の[time : 朝六時]に起こして", utt="明日の朝六時に起こして", char_split=True).ok
    # a real space in utt on one side of the slot (code switching), none on the other
    result = parse("用 [app_name : spotify] 播放", utt="用 spotify播放", char_split=True)
    assert result.ok and result.annotation.slots == (Slot("app_name", "spotify", 2, 9),)


def test_without_utt_the_notation_spaces_are_not_text():
    assert plain_text("[date : 明日] の [time : 朝六時] に起こして", char_split=True) == "明日の朝六時に起こして"
    assert plain_text("[date : 明日]  の", char_split=True) == "明日 の"  # a second space is text
    assert plain_text("ปลุกฉันตอน [time : ตีห้า]", char_split=True) == "ปลุกฉันตอนตีห้า"


def test_published_form_sets_slots_off_and_changes_nothing_else():
    assert published_form("[date : 明日]の[time : 朝六時]に起こして") == "[date : 明日] の [time : 朝六時] に起こして"
    assert published_form("[date : 这周][time : 五点]叫我起床") == "[date : 这周] [time : 五点] 叫我起床"
    assert published_form("[date : 这周] [time : 五点] 叫我起床") == "[date : 这周] [time : 五点] 叫我起床"
    assert published_form("明日\u3000[time : 六時]") == "明日\u3000[time : 六時]"  # whitespace already there
    assert published_form("no slots here") == "no slots here"


def test_spaced_notation_is_a_text_mismatch_where_the_script_writes_spaces():
    result = parse("[date : 这周] [time : 五点] 叫我起床", utt="这周五点叫我起床")
    assert [i.code for i in result.errors][:1] == ["text_mismatch"]
    result = parse("[date : 这周] [time : 五点] 叫我起床", utt="这周六点叫我起床", char_split=True)
    assert [(i.code, i.position) for i in result.errors][:1] == [("text_mismatch", 2)]


def test_a_case_only_difference_is_a_warning_and_the_slots_follow_utt():
    result = parse("what is on [date : Friday]", utt="what is on friday")
    assert result.ok
    assert [(i.code, i.position) for i in result.warnings] == [("text_case_mismatch", 11)]
    assert result.annotation == Annotation("what is on friday", (Slot("date", "friday", 11, 17),))
    assert not parse("what is on [date : Fridays]", utt="what is on friday").ok  # a real difference


@FAST
@given(annotations())
def test_the_spaced_form_stands_for_the_same_annotation(annotation):
    # serialize(spaced=True) and parse() in a char-split locale are inverses, with or without utt,
    # and the published form of the plain notation parses to the same annotation too.
    spaced = serialize(annotation, spaced=True)
    assert parse(spaced, char_split=True).annotation == annotation
    assert parse(spaced, utt=annotation.text, char_split=True).annotation == annotation
    assert parse(published_form(serialize(annotation)), char_split=True).annotation.text.replace(" ", "") == \
        annotation.text.replace(" ", "")
