"""Coverage as CSV, the same columns for the API and the admin page's download link."""
import io

from django.http import HttpResponse

from parley.config.csv_cells import csv_writer

COVERAGE_COLUMNS = {
    "status": ["locale", "intent", "partition", "status", "count"],
    "targets": ["locale", "intent", "scenario", "partition", "counted", "pending", "target", "gap"],
}


def coverage_csv(rows: list[dict], view: str) -> HttpResponse:
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(COVERAGE_COLUMNS[view])
    for r in rows:
        writer.writerow(["" if r[c] is None else r[c] for c in COVERAGE_COLUMNS[view]])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    name = "coverage.csv" if view == "status" else f"coverage-{view}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
