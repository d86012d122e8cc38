"""Test data in one place. Everything goes through the services, as the product does."""
import itertools
import json

from django.contrib.auth import get_user_model

from parley.access.models import Role
from parley.access.services import membership_grant, token_create
from parley.locales.models import Locale
from parley.locales.services import locale_alias_set, locale_create

_counter = itertools.count(1)


def locale(tag: str, **kwargs) -> Locale:
    existing = Locale.objects.filter(tag=tag).first()
    return existing or locale_create(tag=tag, actor="test", **kwargs)


def alias(loc: Locale, tag: str, source: str = "massive"):
    return locale_alias_set(locale=loc, tag=tag, source=source, actor="test")


def user(username: str | None = None, *, superuser: bool = False, password: str = "pw-test-1234", **fields):
    User = get_user_model()
    name = username or f"user{next(_counter)}"
    u = User.objects.create_user(username=name, password=password, is_superuser=superuser, **fields)
    return u


def member(role_slug: str, loc: Locale | None = None, *, username: str | None = None, proficiency: str = ""):
    """A new user holding `role_slug` in `loc` (or in every locale)."""
    u = user(username)
    membership_grant(user=u, role=Role.objects.get(slug=role_slug), locale=loc, proficiency=proficiency, actor="test")
    return u


def intent(name: str, scenario: str, *, slots=()):
    from parley.nlu.services import intent_ensure, intent_slot_types_allow, slot_type_ensure

    obj = intent_ensure(name=name, scenario=scenario, actor="test")
    intent_slot_types_allow(intent=obj, slot_types=[slot_type_ensure(name=s, actor="test") for s in slots])
    return obj


def token(u, scopes=("locales:read",), locales=(), **kwargs):
    """(ApiToken, plaintext)."""
    return token_create(user=u, name=f"token{next(_counter)}", scopes=list(scopes), locales=list(locales),
                        actor="test", **kwargs)


# --- Real-shaped MASSIVE 1.1 rows (field names and shapes as published) ---

JUDGMENT = {"worker_id": "11", "intent_score": 1, "slots_score": 1, "grammar_score": 4, "spelling_score": 2,
            "language_identification": "target"}

EN = {"id": "1", "locale": "en-US", "partition": "test", "scenario": "alarm", "intent": "alarm_set",
      "utt": "wake me up at five am this week", "annot_utt": "wake me up at [time : five am] [date : this week]",
      "worker_id": "1", "slot_method": [], "judgments": []}
DE = {"id": "1", "locale": "de-DE", "partition": "test", "scenario": "alarm", "intent": "alarm_set",
      "utt": "weck mich diese woche um fünf uhr morgens auf",
      "annot_utt": "weck mich [date : diese woche] um [time : fünf uhr morgens] auf", "worker_id": "8",
      "slot_method": [{"slot": "time", "method": "translation"}, {"slot": "date", "method": "localization"}],
      "judgments": [JUDGMENT, {**JUDGMENT, "worker_id": "12", "grammar_score": 3}]}
JA = {"id": "1", "locale": "ja-JP", "partition": "test", "scenario": "alarm", "intent": "alarm_set",
      "utt": "今週の午前五時に起こして", "annot_utt": "[date : 今週] の [time : 午前五時] に起こして", "worker_id": "21",
      "slot_method": [{"slot": "time", "method": "translation"}, {"slot": "date", "method": "translation"}],
      "judgments": [{**JUDGMENT, "worker_id": "22"}]}
SL = {"id": "2", "locale": "sl-SL", "partition": "train", "scenario": "alarm", "intent": "alarm_set",
      "utt": "zbudi me ob petih zjutraj ta teden", "annot_utt": "zbudi me ob [time : petih zjutraj] [date : ta teden]",
      "worker_id": "31", "slot_method": [{"slot": "time", "method": "translation"}], "judgments": []}
EN2 = {"id": "7", "locale": "en-US", "partition": "train", "scenario": "weather", "intent": "weather_query",
       "utt": "what is the weather in paris", "annot_utt": "what is the weather in [place_name : paris]",
       "worker_id": "2", "slot_method": [], "judgments": []}


def jsonl(*rows) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def utterance(loc: Locale, intent_obj, annotated: str = "at [time : five]", *, text: str | None = None,
              status: str = "draft", partition: str = "unassigned", source: str = "manual", **fields):
    """An utterance row as stored (text derived from `annotated` unless given; no checks run)."""
    from parley.nlu import annotation as notation
    from parley.nlu.models import Utterance
    from parley.nlu.normalize import normalize_text
    from parley.nlu.services import slots_as_json

    parsed = notation.parse(annotated, char_split=loc.writes_without_spaces).annotation
    derived = parsed.text if parsed is not None else annotated
    text = derived if text is None else text
    return Utterance.objects.create(
        locale=loc, intent=intent_obj, annotated=annotated, text=text, normalized=normalize_text(text),
        slots=slots_as_json(parsed) if parsed else [], source=source, status=status, partition=partition, **fields)


# --- Schema editing (guides, lexicon, coverage targets) ---

def catalogued(name: str):
    from parley.nlu.models import SlotType
    from parley.nlu.services import slot_type_create, slot_type_update

    existing = SlotType.objects.filter(name=name).first()
    if existing is None:
        return slot_type_create(name=name, kind="catalogued", actor="test")
    return slot_type_update(slot_type=existing, kind="catalogued", actor="test")


def concept(slot_type_name: str, key: str):
    from parley.nlu.services import lexicon_concept_create

    return lexicon_concept_create(slot_type=catalogued(slot_type_name), key=key, actor="test")


def lexicon_entry(concept_obj, loc: Locale, value: str, synonyms=()):
    from parley.nlu.services import lexicon_entry_create

    return lexicon_entry_create(concept=concept_obj, locale=loc, value=value, synonyms=list(synonyms), actor="test")


# --- Feedback (issue 8) ---

def feedback_item(key: str, *, locale: str = "de-DE", text: str = "weck mich um sieben", signal: str = "user_rephrase",
                  session: str = "a" * 32, timestamp: str = "2026-12-01T10:00:00Z", intent: str = "alarm_query",
                  slots=(), confidence: float | None = 0.4, **fields) -> dict:
    """One event as a pipeline sends it to POST /api/v1/feedback/events."""
    item = {"idempotency_key": key, "locale": locale, "text": text, "signal": signal, "session_hash": session,
            "timestamp": timestamp,
            "prediction": {"intent": intent, "slots": [dict(s) for s in slots], "confidence": confidence}}
    item.update(fields)
    return item


def feedback_ingest(*items, may_write=lambda _id: True, cluster: bool = True) -> dict:
    """Store events through the ingestion service (as the API does) and cluster them at once."""
    from parley.feedback.services import events_cluster, events_ingest

    report = events_ingest(items=list(items), may_write=may_write)
    if cluster:
        events_cluster()
    return report


# --- Collection (campaigns, native annotators) ---

def native(loc: Locale, username: str | None = None):
    """An annotator who is a native speaker of `loc`."""
    return member("annotator", loc, username=username, proficiency="native")


def campaign(locales, intents, *, activate: bool = True, **kwargs):
    from parley.collection.services import campaign_create, campaign_status_change

    kwargs.setdefault("target_per_intent", 2)
    obj = campaign_create(name=kwargs.pop("name", f"campaign{next(_counter)}"), locales=locales, intents=intents,
                          actor="test", **kwargs)
    if activate:
        obj = campaign_status_change(campaign=obj, to="active", actor="test")
    return obj
# --- Culture (templates, registers, terms, holidays) ---

def template_key(key: str = "alarm_set.confirm", *, source: Locale | None = None, parameters=None, intent=None):
    from parley.culture.models import TemplateKey
    from parley.culture.services import template_key_create

    existing = TemplateKey.objects.filter(key=key).first()
    if existing is not None:
        return existing
    return template_key_create(key=key, source_locale=source or locale("en-US"), intent=intent, actor="test",
                               parameters=parameters if parameters is not None else [
                                   {"name": "count", "type": "number", "sample": 3}])


def template_text(key_obj, loc: Locale, body: str, *, register: str = "", status: str = "draft"):
    """A text saved through the service, then moved along the lifecycle up to `status`."""
    from parley.culture.services import STEPS_FROM_DRAFT, template_save, template_status_change

    text = template_save(key=key_obj, locale=loc, register=register, body=body, actor="test")
    for step in STEPS_FROM_DRAFT[status]:
        text = template_status_change(template=text, to=step, actor="test")
    return text


def register(loc: Locale, code: str, *, default: bool = False, order: int = 0):
    from parley.culture.services import register_save

    return register_save(locale=loc, code=code, name=code, is_default=default, order=order, actor="test")


def sensitive_term(loc: Locale, term: str, *, severity: str = "block", reason: str = "", replacement: str = ""):
    from parley.culture.services import sensitive_term_create

    return sensitive_term_create(locale=loc, term=term, severity=severity, reason=reason, replacement=replacement,
                                 actor="test")
