"""Migration nlu 0005: stored annotations put in the forms their sources publish, with a count."""
import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

import factories as f
from parley.nlu.models import Utterance

BEFORE = [("nlu", "0004_utterance_locale_index_dropped")]
AFTER = [("nlu", "0005_annotations_as_published")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


@pytest.mark.django_db(transaction=True)
def test_old_rows_get_the_published_forms_and_the_migration_says_how_many(capsys):
    migrate(BEFORE)
    try:
        ja, th, en = f.locale("ja-JP"), f.locale("th-TH"), f.locale("en-US")
        alarm = f.intent("alarm_set", "alarm", slots=["time", "date"])
        old_ja = f.utterance(ja, alarm, "[date : 明日]の[time : 朝六時]に起こして")
        spaced_ja = f.utterance(ja, alarm, "[date : 明日] の [time : 朝六時] に起こして")
        old_th = f.utterance(th, alarm, "ปลุกฉันตอน[time : ตีห้า]")
        glued_en = f.utterance(en, alarm, "[person : john]'s alarm")  # Latin: not touched
        sentence = {"slurp_id": 1, "sentence": "what is on friday", "sentence_annotation": "what is on [date : Friday]"}
        slurp = f.utterance(en, alarm, "what is on [date : friday]", source="slurp",
                            provenance={"row": sentence, "fields": list(sentence)})
        from parley.nlu.models import IntentGuide
        guide = IntentGuide.objects.create(intent=alarm, locale=ja, examples=["[time : 七時]に起こして"])
        capsys.readouterr()
        migrate(AFTER)
        out = capsys.readouterr().out
    finally:
        migrate(AFTER)
    assert "2 annotation(s) and 1 guide(s) in 2 locale(s) written without spaces" in out
    assert IntentGuide.objects.get(pk=guide.pk).examples == ["[time : 七時] に起こして"]
    assert "1 SLURP annotation(s) given back their published letter case" in out
    stored = dict(Utterance.objects.values_list("pk", "annotated"))
    assert stored[old_ja.pk] == "[date : 明日] の [time : 朝六時] に起こして"
    assert stored[spaced_ja.pk] == spaced_ja.annotated
    assert stored[old_th.pk] == "ปลุกฉันตอน [time : ตีห้า]"
    assert stored[glued_en.pk] == glued_en.annotated
    assert stored[slurp.pk] == "what is on [date : Friday]"
    # text, slots and normalized form do not move: the inserted spaces are notation
    assert Utterance.objects.get(pk=old_ja.pk).text == "明日の朝六時に起こして"
