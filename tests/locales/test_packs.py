"""Locale packs: the shipped ones load idempotently; a bad pack rejects the whole load."""
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from parley.events.models import Event
from parley.locales.models import Locale, LocaleAlias
from parley.locales.packs import PackLoadError
from parley.locales.selectors import locale_export_tag, locale_resolve
from parley.locales.services import locale_packs_load

pytestmark = pytest.mark.django_db

MASSIVE_TAGS = """af-ZA am-ET ar-SA az-AZ bn-BD ca-ES cy-GB da-DK de-DE el-GR en-US es-ES fa-IR fi-FI fr-FR he-IL
hi-IN hu-HU hy-AM id-ID is-IS it-IT ja-JP jv-ID ka-GE km-KH kn-IN ko-KR lv-LV ml-IN mn-MN ms-MY my-MM nb-NO nl-NL
pl-PL pt-PT ro-RO ru-RU sl-SL sq-AL sv-SE sw-KE ta-IN te-IN th-TH tl-PH tr-TR ur-PK vi-VN zh-CN zh-TW""".split()


def test_shipped_packs_cover_every_massive_locale_and_round_trip():
    counts = locale_packs_load(directory=settings.PARLEY_LOCALE_PACKS_DIR)
    assert counts["created"] == 52
    for tag in MASSIVE_TAGS:
        loc = locale_resolve(tag)
        assert locale_export_tag(locale=loc, source="massive") == tag
    assert locale_resolve("sl-SL").tag == "sl-SI"
    assert locale_resolve("tl-PH").tag == "fil-PH"
    assert locale_resolve("zh-TW").tag == "zh-Hant-TW"
    assert locale_resolve("no-NO").tag == "nb-NO"
    assert set(Locale.objects.filter(direction="rtl").values_list("tag", flat=True)) == {"ar-SA", "fa-IR", "he-IL", "ur-PK"}


def test_second_load_changes_nothing():
    locale_packs_load(directory=settings.PARLEY_LOCALE_PACKS_DIR)
    events = Event.objects.count()
    counts = locale_packs_load(directory=settings.PARLEY_LOCALE_PACKS_DIR)
    assert counts == {"created": 0, "updated": 0, "unchanged": 52}
    assert Event.objects.count() == events


def _write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text, encoding="utf-8")


def test_pack_overrides_survive_and_status_is_set_at_creation(tmp_path):
    _write(tmp_path, "de-DE.yaml", "tag: de-DE\nstatus: launched\noverrides:\n  first_day_of_week: sun\n")
    locale_packs_load(directory=tmp_path)
    de = Locale.objects.get(tag="de-DE")
    assert (de.status, de.first_day_of_week, de.overridden_fields) == ("launched", "sun", ["first_day_of_week"])


def test_bad_pack_is_rejected_whole_with_file_field_and_reason(tmp_path):
    _write(tmp_path, "de-DE.yaml", "tag: de-DE\nstatus: collecting\n")  # fine on its own
    _write(tmp_path, "fr-FR.yaml", "tag: fr-FR\nstatus: shipping\noverrides:\n  direction: up\n  colour: red\n")
    _write(tmp_path, "xx.yaml", "tag: [not, a, tag]\n")
    _write(tmp_path, "broken.yaml", "tag: it-IT\n  status: : :\n")
    _write(tmp_path, "en-us.json", '{"tag": "en-us"}')
    _write(tmp_path, "ko-KR.yaml", "tag: ko-KR\naliases:\n  - {tag: de-DE, source: massive}\n")
    with pytest.raises(PackLoadError) as caught:
        locale_packs_load(directory=tmp_path)
    problems = {(e.file, e.field) for e in caught.value.errors}
    assert ("fr-FR.yaml", "status") in problems
    assert ("fr-FR.yaml", "overrides.direction") in problems
    assert ("fr-FR.yaml", "overrides.colour") in problems
    assert ("xx.yaml", "tag") in problems
    assert ("broken.yaml", "(file)") in problems
    assert ("en-us.json", "tag") in problems  # not canonical
    assert ("ko-KR.yaml", "aliases[0].tag") in problems  # another pack's canonical tag
    assert "line 2" in next(str(e) for e in caught.value.errors if e.file == "broken.yaml")
    assert Locale.objects.count() == 0 and LocaleAlias.objects.count() == 0


def test_parent_cycle_in_packs_loads_nothing(tmp_path):
    _write(tmp_path, "de-CH.yaml", "tag: de-CH\nparent: gsw-CH\n")
    _write(tmp_path, "gsw-CH.yaml", "tag: gsw-CH\nparent: de-CH\n")
    with pytest.raises(PackLoadError, match="loops"):
        locale_packs_load(directory=tmp_path)
    assert Locale.objects.count() == 0


def test_command_reports_errors_and_loads(tmp_path, capsys):
    _write(tmp_path, "de-DE.yaml", "tag: de-DE\nstatus: nope\n")
    with pytest.raises(CommandError, match="de-DE.yaml: status"):
        call_command("locales_load", "--dir", str(tmp_path))
    _write(tmp_path, "de-DE.yaml", "tag: de-DE\n")
    call_command("locales_load", "--dir", str(tmp_path))
    assert "1 created" in capsys.readouterr().out
