"""Streaming exports: one row at a time from a server-side cursor, so memory stays flat."""
from __future__ import annotations

import json
from collections.abc import Iterator

from parley.locales.models import Locale
from parley.locales.selectors import locale_export_tag
from parley.nlu.models import Utterance

from .formats import massive

FETCH = 2000


def massive_rows(*, locale: Locale, source: str | None = Utterance.Source.MASSIVE, partition: str | None = None) -> Iterator[dict]:
    """MASSIVE rows for one locale in original order, with the locale tag MASSIVE uses (sl-SL)."""
    tag = locale_export_tag(locale=locale, source="massive")
    qs = Utterance.objects.filter(locale=locale).exclude(status=Utterance.Status.RETIRED)
    if source:
        qs = qs.filter(source=source)
    if partition:
        qs = qs.filter(partition=partition)
    qs = qs.order_by("source_order", "id").values_list(
        "provenance", "external_id", "partition", "intent__scenario__name", "intent__name", "text", "annotated")
    for provenance, external_id, part, scenario, intent, text, annotated in qs.iterator(chunk_size=FETCH):
        yield massive.row_for_export(provenance=provenance, locale_tag=tag, external_id=external_id, partition=part,
                                     scenario=scenario, intent=intent, utt=text, annot_utt=annotated)


def massive_jsonl(**kwargs) -> Iterator[str]:
    for row in massive_rows(**kwargs):
        yield json.dumps(row, ensure_ascii=False) + "\n"
