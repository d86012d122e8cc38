"""The one utterance lifecycle: creation through the checks, and status steps with events."""
import pytest
from django.core.exceptions import ValidationError

import factories as f
from parley.checks.models import CheckResult
from parley.events.models import Event
from parley.nlu.models import Utterance
from parley.nlu.services import UTTERANCE_TRANSITIONS, utterance_create, utterance_status_change

pytestmark = pytest.mark.django_db


@pytest.fixture
def de():
    return f.locale("de-DE")


@pytest.fixture
def alarm():
    return f.intent("alarm_set", "alarm", slots=["time"])


def test_create_derives_text_slots_and_normalized_form_and_logs(de, alarm):
    u = utterance_create(locale=de, intent=alarm, annotated="weck mich um [time : fünf Uhr]", source="collected",
                         actor="test", status="submitted", external_id="c-1")
    assert (u.text, u.status, u.partition) == ("weck mich um fünf Uhr", "submitted", "unassigned")
    assert u.slots == [{"type": "time", "value": "fünf Uhr", "start": 13, "end": 21}]
    assert u.normalized == "weck mich um fünf uhr"
    event = Event.objects.get(verb="utterance.created")
    assert (event.locale_tag, event.target_id, event.payload["source"]) == ("de-DE", str(u.pk), "collected")


def test_create_refuses_errors_with_position_and_writes_nothing(de, alarm):
    with pytest.raises(ValidationError) as caught:
        utterance_create(locale=de, intent=alarm, annotated="weck mich um [time fünf Uhr]", source="manual",
                         actor="test")
    assert "annotated" in caught.value.message_dict
    assert not Utterance.objects.exists()
    assert not Event.objects.filter(verb="utterance.created").exists()


def test_create_stores_warnings(de, alarm):
    f.intent("weather_query", "weather", slots=["place_name"])  # place_name exists, not allowed for alarm_set
    u = utterance_create(locale=de, intent=alarm, annotated="wecker in [place_name : berlin]", source="manual",
                         actor="test")
    assert CheckResult.objects.filter(target_id=str(u.pk), check_id="utterance.slot_allowed").exists()


def test_new_utterance_cannot_start_accepted(de, alarm):
    with pytest.raises(ValidationError):
        utterance_create(locale=de, intent=alarm, annotated="um [time : fünf]", source="manual", actor="test",
                         status="accepted")


def test_status_walks_the_lifecycle_with_one_event_per_step(de, alarm):
    u = utterance_create(locale=de, intent=alarm, annotated="um [time : fünf]", source="collected", actor="test")
    for step in ("submitted", "in_validation", "accepted"):
        utterance_status_change(utterance=u, to=step, actor="test", reason="ok")
    utterance_status_change(utterance=u, to="promoted", actor="test", partition="test")
    u.refresh_from_db()
    assert (u.status, u.partition) == ("promoted", "test")
    steps = [(e.payload["from"]["status"], e.payload["to"]["status"])
             for e in Event.objects.filter(verb="utterance.status_changed").order_by("id")]
    assert steps == [("draft", "submitted"), ("submitted", "in_validation"), ("in_validation", "accepted"),
                     ("accepted", "promoted")]


@pytest.mark.parametrize("current,to", [("draft", "promoted"), ("promoted", "draft"), ("retired", "accepted"),
                                        ("accepted", "accepted"), ("draft", "bogus")])
def test_illegal_steps_are_refused_and_leave_the_row_as_it_was(de, alarm, current, to):
    u = f.utterance(de, alarm, "um [time : fünf]", status=current)
    with pytest.raises(ValidationError) as caught:
        utterance_status_change(utterance=u, to=to, actor="test")
    assert "status" in caught.value.message_dict
    u.refresh_from_db()
    assert u.status == current
    assert not Event.objects.filter(verb="utterance.status_changed").exists()


def test_every_status_has_its_transitions_declared():
    assert set(UTTERANCE_TRANSITIONS) == set(Utterance.Status.values)
    assert all(to in Utterance.Status.values for targets in UTTERANCE_TRANSITIONS.values() for to in targets)
