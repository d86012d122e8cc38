"""The one CSV writer for every file Parley writes: no cell reaches a spreadsheet as a formula.

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula (or
becomes one) when a spreadsheet opens the file, so an annotator's comment could run in a lead's
Excel. Such a cell is written with a leading ``'`` (OWASP's advice for CSV injection). Numbers are
written as they are: ``-5`` is a number, not a formula, and only text can carry one.

Cells that already start with quotes before a trigger (``'=x``) get one more quote, so
`csv_cell_restored` undoes exactly what was added and a file Parley reads back (the lexicon)
round-trips every value.
"""
from __future__ import annotations

import csv
import re

FORMULA_TRIGGERS = "=+-@\t\r"
_NEEDS_QUOTE = re.compile(r"'*[=+\-@\t\r]")
_QUOTED = re.compile(r"'+[=+\-@\t\r]")


def csv_cell_neutralized(value):
    if isinstance(value, str) and _NEEDS_QUOTE.match(value):
        return "'" + value
    return value


def csv_cell_restored(value: str) -> str:
    """A cell as it was before `csv_cell_neutralized` (for files Parley reads back)."""
    return value[1:] if _QUOTED.match(value) else value


class SafeCsvWriter:
    """csv.writer's writerow/writerows with every cell neutralized; returns what the file returns."""

    def __init__(self, fileobj, **kwargs):
        self._writer = csv.writer(fileobj, **kwargs)

    def writerow(self, row):
        return self._writer.writerow([csv_cell_neutralized(cell) for cell in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


def csv_writer(fileobj, **kwargs) -> SafeCsvWriter:
    return SafeCsvWriter(fileobj, **kwargs)
