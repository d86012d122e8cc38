"""Child process of the import benchmark: export every locale as MASSIVE jsonl to /dev/null and
report rows/s and this process's peak resident memory (so the figure is the export's alone)."""
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "platform"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parley.config.settings")
os.environ.setdefault("PARLEY_TESTING", "1")

import django  # noqa: E402

django.setup()

from parley.interchange.exports import massive_jsonl  # noqa: E402
from parley.locales.models import Locale  # noqa: E402

started = time.perf_counter()
exported = 0
with open(os.devnull, "w", encoding="utf-8") as sink:
    for locale in Locale.objects.all():
        for piece in massive_jsonl(locale=locale):  # whole lines, one or many a piece
            sink.write(piece)
            exported += piece.count("\n")
seconds = time.perf_counter() - started
# VmHWM, not getrusage's ru_maxrss: the latter survives execve, so a child started by a big
# parent would report the parent's peak.
peak_mb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:")) / 1024
print(f"massive export {exported:,} rows (every locale, streamed, written): {seconds:.1f} s, "
      f"{exported / seconds:,.0f} rows/s; peak RSS of the exporting process {peak_mb:.0f} MB")
