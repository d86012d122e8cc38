"""Formality registers and sensitive terms: the shipped culture packs, their validation and
reload, the services, and the utterance check that flags terms in collected and imported rows."""
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

import factories as f
from parley.checks.models import CheckResult
from parley.checks.registry import checks_evaluate_many
from parley.culture.models import FormalityRegister, SensitiveTerm
from parley.culture.packs import read_culture_packs
from parley.culture.services import culture_packs_load, register_save, sensitive_term_create, sensitive_term_update
from parley.events.models import Event
from parley.locales.services import locale_packs_load
from parley.nlu.services import utterance_create

pytestmark = pytest.mark.django_db

PACKS = Path(settings.PARLEY_LOCALE_PACKS_DIR) / "culture"
SHIPPED = {"de-DE", "fr-FR", "es-ES", "ja-JP", "ko-KR", "hi-IN", "ar-SA", "ru-RU", "tr-TR", "en-US"}


def test_shipped_culture_packs_cover_the_issue_locales_and_validate():
    packs = {p.tag: p for p in read_culture_packs(PACKS)}
    assert SHIPPED <= set(packs)
    assert [r["code"] for r in packs["de-DE"].registers] == ["du", "sie"]
    assert [r["code"] for r in packs["ja-JP"].registers] == ["plain", "polite", "honorific"]
    assert packs["en-US"].registers == []
    for tag in SHIPPED - {"en-US"}:
        assert sum(1 for r in packs[tag].registers if r.get("default")) == 1, tag
        assert packs[tag].terms and packs[tag].topics, tag


def test_locale_packs_stay_valid_beside_the_culture_folder():
    # locales_load reads only the files at the top of locales/: the culture/ folder is not a pack.
    counts = locale_packs_load(directory=settings.PARLEY_LOCALE_PACKS_DIR, actor="test")
    assert counts["created"] == 52


def test_culture_load_loads_everything_once_and_keeps_linguists_edits():
    locale_packs_load(directory=settings.PARLEY_LOCALE_PACKS_DIR, actor="test")
    call_command("culture_load")
    de = FormalityRegister.objects.filter(locale__tag="de-DE")
    assert {(r.code, r.is_default) for r in de} == {("du", False), ("sie", True)}
    assert not FormalityRegister.objects.filter(locale__tag="en-US").exists()
    idiot = SensitiveTerm.objects.get(locale__tag="de-DE", term="Idiot")
    assert (idiot.severity, idiot.source, idiot.kind) == ("block", "pack", "term")
    assert SensitiveTerm.objects.filter(locale__tag="ar-SA", kind="topic").count() == 3
    # A linguist softens a term and makes du the default; a reload changes neither.
    sensitive_term_update(row=idiot, severity="warn", actor="test")
    register_save(locale=idiot.locale, code="du", is_default=True, actor="test")
    events = Event.objects.count()
    counts = culture_packs_load(directory=PACKS, actor="test")
    assert counts["registers"] == counts["terms"] == counts["topics"] == 0 and counts["unchanged"] > 40
    assert Event.objects.count() == events
    assert SensitiveTerm.objects.get(pk=idiot.pk).severity == "warn"
    assert FormalityRegister.objects.get(locale__tag="de-DE", is_default=True).code == "du"


@pytest.mark.parametrize("text, field, reason", [
    ("tag: de-DE\nregisters:\n  - {code: Sie, name: x}\n", "registers[0].code", "lower-case"),
    ("tag: de-DE\nregisters:\n  - {code: du, name: du}\n", "registers", "default"),
    ("tag: de-DE\nterms:\n  - {term: x, severity: never}\n", "terms[0].severity", "block or warn"),
    ("tag: de-DE\ncolour: red\n", "colour", "unknown field"),
    ("tag: de-DE\nregisters: []\noverrides:\n  - {scenario: alarm, register: sie}\n", "overrides[0].register",
     "not one of"),
])
def test_a_bad_culture_pack_names_file_field_and_reason_and_loads_nothing(tmp_path, text, field, reason):
    f.locale("de-DE")
    (tmp_path / "de-DE.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "fr-FR.yaml").write_text("tag: fr-FR\nterms:\n  - {term: merde, severity: block}\n",
                                         encoding="utf-8")
    with pytest.raises(CommandError) as caught:
        call_command("culture_load", "--dir", str(tmp_path))
    assert f"de-DE.yaml: {field}: " in str(caught.value) and reason in str(caught.value)
    assert not SensitiveTerm.objects.exists()


def test_culture_load_refuses_an_unregistered_locale_and_writes_nothing(tmp_path):
    f.locale("de-DE")
    (tmp_path / "de-DE.yaml").write_text("tag: de-DE\nterms:\n  - {term: Mist, severity: warn}\n", encoding="utf-8")
    (tmp_path / "xx-YY.yaml").write_text("tag: kl-GL\n", encoding="utf-8")
    with pytest.raises(CommandError) as caught:
        call_command("culture_load", "--dir", str(tmp_path))
    assert "file name must be the tag" in str(caught.value)
    (tmp_path / "xx-YY.yaml").rename(tmp_path / "kl-GL.yaml")
    with pytest.raises(CommandError) as caught:
        call_command("culture_load", "--dir", str(tmp_path))
    assert "kl-GL is not a registered locale" in str(caught.value)
    assert not SensitiveTerm.objects.exists()


def test_one_default_register_per_locale_and_terms_unique_by_normalized_form():
    de = f.locale("de-DE")
    f.register(de, "du", default=True)
    f.register(de, "sie", default=True)
    assert list(FormalityRegister.objects.filter(locale=de, is_default=True).values_list("code", flat=True)) == ["sie"]
    sensitive_term_create(locale=de, term="Scheiße", severity="block", actor="test")
    with pytest.raises(ValidationError) as caught:
        sensitive_term_create(locale=de, term="SCHEISSE", severity="warn", actor="test")
    assert "same normalized form" in str(caught.value)
    with pytest.raises(ValidationError):
        register_save(locale=de, code="Sie!", actor="test")


# --- the utterance check ------------------------------------------------------------------------

def test_a_collected_utterance_with_a_blocked_term_is_kept_and_flagged():
    de = f.locale("de-DE")
    alarm = f.intent("alarm_set", "alarm", slots=["time"])
    f.sensitive_term(de, "Idiot", severity="block", reason="insult")
    u = utterance_create(locale=de, intent=alarm, annotated="weck mich um [time : fünf] du Idiot",
                         source="collected", status="submitted", actor="test")
    stored = CheckResult.objects.get(target_type="nlu.utterance", target_id=str(u.pk), check_id="utterance.banned_term")
    assert stored.severity == "warning" and "'Idiot'" in stored.message and stored.locale_tag == "de-DE"
    clean = utterance_create(locale=de, intent=alarm, annotated="weck mich um [time : fünf]", source="collected",
                             actor="test")
    assert not CheckResult.objects.filter(target_id=str(clean.pk), check_id="utterance.banned_term").exists()


def test_the_utterance_check_loads_each_locales_terms_once_per_run(django_assert_num_queries):
    de, ja = f.locale("de-DE"), f.locale("ja-JP")
    alarm = f.intent("alarm_set", "alarm", slots=["time"])
    f.sensitive_term(de, "Idiot")
    f.sensitive_term(ja, "馬鹿")
    rows = [(f.utterance(de, alarm, "du Idiot"), de), (f.utterance(ja, alarm, "この馬鹿"), ja),
            (f.utterance(de, alarm, "guten Morgen"), de), (f.utterance(ja, alarm, "おはよう"), ja)] * 5
    # slot types, allowed slot types, and per locale once: its terms and its script (spaces or not)
    with django_assert_num_queries(6):
        out = list(checks_evaluate_many(rows, applies_to="utterance", only=["utterance.banned_term",
                                                                           "utterance.slot_type_known"]))
    flagged = [[x.check_id for x in found] for _u, _tag, found in out]
    assert flagged[:4] == [["utterance.banned_term"], ["utterance.banned_term"], [], []]


def test_a_new_banned_term_flags_the_texts_already_written():
    de, en = f.locale("de-DE"), f.locale("en-US")
    key = f.template_key("alarm_set.confirm", source=en)
    text = f.template_text(key, de, "Erledigt, du Schlafmütze: {count} Wecker.")
    assert not text.has_errors
    f.sensitive_term(de, "Schlafmütze", severity="block")
    text.refresh_from_db()
    assert text.has_errors
    assert CheckResult.objects.filter(target_id=str(text.pk), check_id="template.banned_term").exists()


def test_culture_load_with_holidays_seeds_the_pack_locales(tmp_path):
    import datetime as dt

    from parley.culture.models import HolidayYear

    f.locale("de-DE")
    f.locale("fr-FR")  # no pack here: no holidays
    (tmp_path / "de-DE.yaml").write_text("tag: de-DE\nregisters: []\n", encoding="utf-8")
    call_command("culture_load", "--dir", str(tmp_path), "--holidays")
    this = dt.date.today().year
    assert sorted(HolidayYear.objects.filter(locale__tag="de-DE").values_list("year", flat=True)) == [this, this + 1]
    assert not HolidayYear.objects.filter(locale__tag="fr-FR").exists()
