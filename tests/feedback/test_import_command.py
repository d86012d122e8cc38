"""The jsonl backfill: every rejected line with its number and reason; idempotent per line."""
import json

import pytest
from django.core.management import CommandError, call_command

import factories as f
from parley.feedback.models import FeedbackCluster, FeedbackEvent

pytestmark = pytest.mark.django_db


def run(path):
    from io import StringIO

    out = StringIO()
    try:
        call_command("feedback_import", str(path), stdout=out)
    except CommandError as exc:
        return out.getvalue(), str(exc)
    return out.getvalue(), None


def test_import_reports_every_rejected_line_and_stores_the_rest(team, tmp_path):
    path = tmp_path / "events.jsonl"
    lines = [json.dumps(f.feedback_item("a")), "{broken", "",
             json.dumps(f.feedback_item("b", text="x" * 2000)), json.dumps(f.feedback_item("c", locale="zz-ZZ")),
             json.dumps(f.feedback_item("d", text="ruf 0170 1234567 an"))]
    path.write_bytes(("\n".join(lines) + "\n").encode() + b"\xff\xfe\n")
    out, error = run(path)
    assert "created 2, already present 0, rejected 4" in out
    assert "line 2: not JSON" in out
    assert "line 4: text: longer than 1000 characters (2000)" in out
    assert "line 5: locale:" in out
    assert "line 7: not UTF-8" in out
    assert error == "4 line(s) rejected (listed above); the other lines are stored"
    assert set(FeedbackEvent.objects.values_list("idempotency_key", flat=True)) == {"a", "d"}
    assert FeedbackEvent.objects.get(idempotency_key="d").text == "ruf <phone> an"
    assert FeedbackCluster.objects.count() == 2  # clustered at the end


def test_importing_the_same_file_again_stores_nothing_new(team, tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(f.feedback_item(f"k{i}", text=f"text {i % 3}")) + "\n" for i in range(30)))
    first, _ = run(path)
    again, error = run(path)
    assert "created 30" in first and error is None
    assert "created 0, already present 30, rejected 0" in again
    assert FeedbackEvent.objects.count() == 30
    assert sorted(FeedbackCluster.objects.values_list("event_count", flat=True)) == [10, 10, 10]


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        call_command("feedback_import", str(tmp_path / "nope.jsonl"))
