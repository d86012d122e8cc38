"""Annotations as their sources publish them.

1. Locales written without spaces: MASSIVE's published form.

Parley used to write "[date : 明日]の[time : 朝六時]に起こして"; MASSIVE's loader
(scripts/create_hf_dataset.py) cuts annot_utt at whitespace, so every "[" must begin a chunk:
"[date : 明日] の [time : 朝六時] に起こして". One space goes in wherever a bracket touches a
character that is not whitespace; the text, slots and normalized form do not change (that space
is notation). The rule and the script list are copied here so that this migration keeps doing
what it did when the code it was written with changes.

2. SLURP rows whose annotation differs from the sentence in letter case only ("[date : Friday]" in
"... this friday") were stored with the annotation rewritten in the sentence's case; they get the
annotation back as the file wrote it (kept in provenance). The check utterance.text_case_differs
now accepts such rows with a warning, keeping both texts.
"""
import re

from django.db import migrations

# CLDR common/properties/scriptMetadata.txt, "LB letters" = YES (as parley.locales.cldr).
SCRIPTS_WITHOUT_WORD_SPACES = frozenset({
    "Ahom", "Bopo", "Hanb", "Hani", "Hans", "Hant", "Hira", "Jpan", "Kana", "Khmr", "Kits", "Lana", "Laoo",
    "Mymr", "Nshu", "Tale", "Talu", "Tang", "Tavt", "Thai", "Yiii",
})
BRACKET_TOUCHING = re.compile(r"(?<=[^\s\]])\[|\](?=\S)")  # as parley.nlu.annotation.published_form
BATCH = 2000


def _spaced(match):
    return " [" if match.group() == "[" else "] "


def annotations_published(apps, schema_editor):
    Locale = apps.get_model("locales", "Locale")
    Utterance = apps.get_model("nlu", "Utterance")
    locale_ids = list(Locale.objects.filter(script__in=SCRIPTS_WITHOUT_WORD_SPACES).values_list("id", flat=True))
    changed = 0
    pending = []
    rows = (Utterance.objects.using(schema_editor.connection.alias)
            .filter(locale_id__in=locale_ids, annotated__contains="[").values_list("id", "annotated"))
    for pk, annotated in rows.iterator(chunk_size=BATCH):
        published = BRACKET_TOUCHING.sub(_spaced, annotated)
        if published != annotated:
            pending.append(Utterance(pk=pk, annotated=published))
        if len(pending) >= BATCH:
            changed += len(pending)
            Utterance.objects.bulk_update(pending, ["annotated"])
            pending = []
    if pending:
        changed += len(pending)
        Utterance.objects.bulk_update(pending, ["annotated"])
    guides = 0
    for name in ("IntentGuide", "SlotTypeGuide"):  # their examples show annotators the notation to follow
        model = apps.get_model("nlu", name)
        for guide in model.objects.filter(locale_id__in=locale_ids):
            examples = [BRACKET_TOUCHING.sub(_spaced, e) if isinstance(e, str) else e for e in guide.examples]
            if examples != guide.examples:
                model.objects.filter(pk=guide.pk).update(examples=examples)
                guides += 1
    print(f"\n  nlu.0005: {changed} annotation(s) and {guides} guide(s) in {len(locale_ids)} locale(s) written "
          "without spaces rewritten in MASSIVE's published form (slots set off by spaces)")


def slurp_annotations_as_written(apps, schema_editor):
    Utterance = apps.get_model("nlu", "Utterance")
    pending = []
    rows = (Utterance.objects.using(schema_editor.connection.alias).filter(source="slurp")
            .values_list("id", "annotated", "provenance"))
    for pk, annotated, provenance in rows.iterator(chunk_size=BATCH):
        written = ((provenance or {}).get("row") or {}).get("sentence_annotation")
        if (isinstance(written, str) and written != annotated and len(written) == len(annotated)
                and written.lower() == annotated.lower()):
            pending.append(Utterance(pk=pk, annotated=written))
    Utterance.objects.bulk_update(pending, ["annotated"], batch_size=BATCH)
    print(f"\n  nlu.0005: {len(pending)} SLURP annotation(s) given back their published letter case")


class Migration(migrations.Migration):

    dependencies = [
        ('locales', '0002_first_day_choices'),
        ('nlu', '0004_utterance_locale_index_dropped'),
    ]

    operations = [
        migrations.RunPython(annotations_published, migrations.RunPython.noop, elidable=True),
        migrations.RunPython(slurp_annotations_as_written, migrations.RunPython.noop, elidable=True),
    ]
