"""Reading a published release: its files as they are, a streamed tar.gz, and the Rasa and Alexa
models derived from a locale's jsonl and lexicon snapshot (train rows only).

Everything here reads the release folder, never the live tables, so a download is as immutable
as the release. Files and the tar.gz stream in fixed-size pieces (flat memory whatever the size);
Rasa and Alexa group rows by intent, so they hold one locale's train rows at a time.
"""
from __future__ import annotations

import json
import re
import tarfile
import time
import unicodedata
import zlib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path

import yaml

from parley.nlu import annotation as notation

from .build import release_folder
from .models import Release, ReleaseFile

PIECE = 256 * 1024
DOWNLOAD_FORMATS = ("massive", "rasa", "alexa")


def file_pieces(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while piece := handle.read(PIECE):
            yield piece


def release_files(*, release: Release, locale_ids=None) -> list[ReleaseFile]:
    """The release's files a reader may have: those of `locale_ids` (None: all) and release-wide ones."""
    files = ReleaseFile.objects.filter(release=release).select_related("locale").order_by("path")
    if locale_ids is not None:
        files = [rf for rf in files if rf.locale_id is None or rf.locale_id in locale_ids]
    return list(files)


def locale_file(*, release: Release, locale, kind: str) -> Path | None:
    entry = ReleaseFile.objects.filter(release=release, locale=locale, kind=kind).first()
    return release_folder(release) / entry.path if entry else None


def targz_pieces(*, release: Release, files: Iterable[ReleaseFile], extra: dict[str, bytes] | None = None
                 ) -> Iterator[bytes]:
    """A gzip-compressed tar of `files` (paths as in the release), streamed: each member's header,
    its content in pieces, padding; then the end blocks. `extra` adds small generated members (a
    manifest narrowed to the reader's locales)."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)  # wbits 31: gzip framing
    folder = release_folder(release)
    mtime = int(release.published_at.timestamp()) if release.published_at else int(time.time())

    def member(name: str, size: int) -> bytes:
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = size, mtime, 0o444
        return info.tobuf(format=tarfile.PAX_FORMAT)

    for name, data in (extra or {}).items():
        yield compressor.compress(member(name, len(data)) + data + b"\0" * (-len(data) % 512))
    for entry in files:
        if entry.path in (extra or {}):
            continue
        path = folder / entry.path
        size = path.stat().st_size
        out = compressor.compress(member(entry.path, size))
        if out:
            yield out
        for piece in file_pieces(path):
            out = compressor.compress(piece)
            if out:
                yield out
        yield compressor.compress(b"\0" * (-size % 512))
    yield compressor.compress(b"\0" * 1024) + compressor.flush()


def _train_rows(jsonl: Path, char_split: bool) -> Iterator[tuple[str, notation.Annotation]]:
    with jsonl.open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            if row.get("partition") != "train":
                continue
            parsed = notation.parse(row["annot_utt"], char_split=char_split)
            if parsed.annotation is not None:
                yield row["intent"], parsed.annotation


def _lexicon(path: Path | None) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8")) if path and path.exists() else []


class _LiteralDumper(yaml.SafeDumper):
    pass


def _literal_str(dumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_LiteralDumper.add_representer(str, _literal_str)


def rasa_entity_example(annotation: notation.Annotation) -> str:
    """MASSIVE slots as Rasa entities: `wake me up at [five am](time)`."""
    out, position = [], 0
    for slot in annotation.slots:
        out.append(annotation.text[position:slot.start])
        out.append(f"[{annotation.text[slot.start:slot.end]}]({slot.type})")
        position = slot.end
    out.append(annotation.text[position:])
    return "".join(out)


_ICU_COMPLEX = re.compile(r"\{\s*\w+\s*,")  # {count, plural, …}, {n, number}: beyond Rasa's {slot}


def rasa_responses(templates: Path | None) -> tuple[dict, int]:
    """Rasa `responses` from a release's template snapshot: one `utter_<key>` per key, in the
    locale's default register (else the first approved one). Rasa fills plain `{slot}` arguments;
    texts with ICU plural, select or number arguments cannot be expressed there and are left out
    (the second value counts them) — render those through Parley's render API."""
    rows = json.loads(templates.read_text(encoding="utf-8")) if templates and templates.exists() else []
    chosen: dict[str, dict] = {}
    for row in rows:
        if row["key"] not in chosen or (row["default_register"] and not chosen[row["key"]]["default_register"]):
            chosen[row["key"]] = row
    responses, skipped = {}, 0
    for key, row in sorted(chosen.items()):
        if _ICU_COMPLEX.search(row["text"]):
            skipped += 1
            continue
        responses["utter_" + re.sub(r"[^0-9A-Za-z_]", "_", key)] = [{"text": row["text"]}]
    return responses, skipped


def rasa_nlu_yaml(*, jsonl: Path, lexicon: Path | None, char_split: bool, responses: dict | None = None) -> str:
    """Rasa 3 training data: one `intent` block of examples per intent, entity synonyms from the
    lexicon (synonym → canonical value), and `responses` when given (approved templates).
    `char_split`: the locale's `Locale.writes_without_spaces`, as its rows were stored with."""
    examples: dict[str, list[str]] = defaultdict(list)
    seen = set()
    for intent, annotation in _train_rows(jsonl, char_split):
        example = rasa_entity_example(annotation)
        if (intent, example) not in seen:
            seen.add((intent, example))
            examples[intent].append(example)
    nlu = [{"intent": intent, "examples": "".join(f"- {e}\n" for e in rows)} for intent, rows in sorted(examples.items())]
    for entry in _lexicon(lexicon):
        if entry.get("synonyms"):
            nlu.append({"synonym": entry["value"], "examples": "".join(f"- {s}\n" for s in entry["synonyms"])})
    document = {"version": "3.1", "nlu": nlu}
    if responses:
        document["responses"] = responses
    return yaml.dump(document, Dumper=_LiteralDumper, allow_unicode=True, sort_keys=False, width=10_000)


ALEXA_BUILT_IN_INTENTS = ("AMAZON.CancelIntent", "AMAZON.HelpIntent", "AMAZON.StopIntent",
                          "AMAZON.NavigateHomeIntent", "AMAZON.FallbackIntent")
_NOT_ALEXA_NAME = re.compile(r"[^A-Za-z_]")


def alexa_name(name: str) -> str:
    """Alexa intent, slot and type names take letters and underscores only."""
    return _NOT_ALEXA_NAME.sub("_", name)


_PLACEHOLDER = re.compile(r"\{[A-Za-z_]+\}")


def _alexa_sample_text(text: str) -> str | None:
    """The sample as Alexa takes it: letters, spaces, apostrophes, periods and hyphens around the
    `{slot}` placeholders, other punctuation dropped; None when it has digits outside a slot
    (Alexa wants numbers spelled out, as spoken)."""
    parts = _PLACEHOLDER.split(text)
    placeholders = _PLACEHOLDER.findall(text)
    cleaned = []
    for part in parts:
        if any(unicodedata.category(ch) == "Nd" for ch in part):
            return None
        cleaned.append("".join(ch if (unicodedata.category(ch)[0] in "LM" or ch in " '.-") else " " for ch in part))
    joined = cleaned[0] + "".join(p + c for p, c in zip(placeholders, cleaned[1:]))
    return " ".join(joined.split())


def alexa_interaction_model(*, jsonl: Path, lexicon: Path | None, char_split: bool,
                            invocation_name: str = "parley assistant") -> tuple[dict, int]:
    """An Alexa skill interaction model for one locale: intents with samples using `{slot}`, slot
    types with the values seen in training plus the lexicon's values and synonyms. `char_split`:
    the locale's `Locale.writes_without_spaces`.

    Alexa refuses a sample that names one slot twice and a sample used by two intents; such
    samples are left out; the second value counts them.
    """
    samples: dict[str, list[str]] = defaultdict(list)
    slots_of: dict[str, set[str]] = defaultdict(set)
    values: dict[str, dict[str, set[str]]] = defaultdict(dict)  # type → value → synonyms
    owner: dict[str, str] = {}
    skipped = 0
    for intent, annotation in _train_rows(jsonl, char_split):
        types = [alexa_name(s.type) for s in annotation.slots]
        if len(types) != len(set(types)):
            skipped += 1
            continue
        out, position = [], 0
        for slot, name in zip(annotation.slots, types):
            out.append(annotation.text[position:slot.start])
            out.append(f"{{{name}}}")
            position = slot.end
        out.append(annotation.text[position:])
        sample = _alexa_sample_text("".join(out))
        key = sample.casefold() if sample else ""
        if not sample or owner.get(key, intent) != intent:
            skipped += 1
            continue
        if key not in owner:
            owner[key] = intent
            samples[intent].append(sample)
        slots_of[intent].update(types)
        for slot, name in zip(annotation.slots, types):  # values only of samples kept
            values[name].setdefault(slot.value.strip(), set())
    for entry in _lexicon(lexicon):
        name = alexa_name(entry["slot_type"])
        values[name].setdefault(entry["value"], set()).update(entry.get("synonyms") or [])
    intents = [{"name": alexa_name(intent), "slots": [{"name": s, "type": f"LIST_OF_{s}"} for s in sorted(slots_of[intent])],
                "samples": rows} for intent, rows in sorted(samples.items())]
    intents += [{"name": name, "samples": []} for name in ALEXA_BUILT_IN_INTENTS]
    used_types = {s for intent in samples for s in slots_of[intent]}
    types = [{"name": f"LIST_OF_{name}",
              "values": [{"name": {"value": value, **({"synonyms": sorted(syn)} if syn else {})}}
                         for value, syn in sorted(values[name].items()) if value]}
             for name in sorted(used_types)]
    model = {"interactionModel": {"languageModel": {"invocationName": invocation_name, "intents": intents,
                                                    "types": types}}}
    return model, skipped
