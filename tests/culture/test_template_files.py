"""Template files: load (additive, all or nothing, every refusal placed), export, round trip."""
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

import factories as f
from parley.culture.models import ResponseTemplate, TemplateKey
from parley.culture.selectors import template_render, templates_for_export
from parley.culture.services import templates_load
from parley.culture.template_files import template_file_dump, template_file_parse
from parley.locales.packs import PackLoadError

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
RU_OK = "{count, plural, one {# будильник} few {# будильника} many {# будильников} other {# будильника}}"


@pytest.fixture
def locales():
    locs = {tag: f.locale(tag) for tag in ("en-US", "de-DE", "ru-RU")}
    f.register(locs["de-DE"], "sie", default=True)
    f.register(locs["de-DE"], "du")
    return locs


FILE = f"""
keys:
  - key: alarm_set.confirm
    source_locale: en-US
    description: after an alarm was set
    parameters: [{{name: count, type: number, sample: 2}}]
    texts:
      - {{locale: en-US, body: "{{count, plural, one {{# alarm}} other {{# alarms}}}} set.", status: approved}}
      - {{locale: de-DE, register: sie, body: "{{count}} Wecker für Sie gestellt.", status: approved}}
      - {{locale: ru-RU, body: "{RU_OK}", status: in_review}}
"""


def load(text, name="t.yaml"):
    keys, errors = template_file_parse(text, name=name)
    assert errors == []
    counts = templates_load(keys=keys, file=name, actor="test")
    assert counts.pop("with_errors") == 0
    counts.pop("kept_declarations")  # its own test below
    return counts


def test_a_file_creates_keys_and_texts_in_their_status_and_loading_again_changes_nothing(locales):
    assert load(FILE) == {"keys": 1, "texts": 3, "unchanged": 0}
    key = TemplateKey.objects.get(key="alarm_set.confirm")
    statuses = dict(ResponseTemplate.objects.filter(key=key).values_list("locale__tag", "status"))
    assert statuses == {"en-US": "approved", "de-DE": "approved", "ru-RU": "in_review"}
    assert template_render(key=key.key, locale=locales["de-DE"], register=None,
                           parameters={"count": 2}).text == "2 Wecker für Sie gestellt."
    assert load(FILE) == {"keys": 0, "texts": 0, "unchanged": 3}


def test_a_text_a_linguist_already_has_is_left_alone(locales):
    key = f.template_key("alarm_set.confirm", source=locales["en-US"],
                         parameters=[{"name": "count", "type": "number"}])
    mine = f.template_text(key, locales["de-DE"], "{count} Wecker, gnädige Frau.", register="sie")
    assert load(FILE)["unchanged"] == 1
    mine.refresh_from_db()
    assert (mine.body, mine.status) == ("{count} Wecker, gnädige Frau.", "draft")


def test_every_shape_problem_is_reported_with_its_place():
    keys, errors = template_file_parse("""
keys:
  - key: a.b
    colour: red
    texts:
      - {locale: de-DE, status: published}
      - nonsense
""", name="bad.yaml")
    places = {(e.field, e.reason.split(" (")[0]) for e in errors}
    assert ("keys[0].colour", "unknown field") in places
    assert ("keys[0].source_locale", "required text") in places
    assert ("keys[0].texts[0].body", "required text") in places
    assert any(e.field == "keys[0].texts[0].status" and "'published'" in e.reason for e in errors)
    assert ("keys[0].texts[1]", "must be a mapping") in places
    assert template_file_parse("keys: [", name="x.yaml")[1][0].field == "(file)"


def test_a_refusal_anywhere_loads_nothing_and_names_its_place(locales):
    bad = FILE.replace(RU_OK, "{count, plural, one {# будильник} other {# будильника}}").replace(
        "status: in_review", "status: approved") + """
  - key: alarm_set.snooze
    source_locale: xx-QQ
    texts: []
"""
    keys, errors = template_file_parse(bad, name="bad.yaml")
    assert errors == []
    with pytest.raises(PackLoadError) as caught:
        templates_load(keys=keys, file="bad.yaml", actor="test")
    found = {e.field: e.reason for e in caught.value.errors}
    assert "cannot approve" in found["keys[0].texts[2].status"] and "few" in found["keys[0].texts[2].status"]
    assert "keys[1].source_locale" in found
    assert not TemplateKey.objects.exists() and not ResponseTemplate.objects.exists()


def test_export_then_load_into_an_empty_database_gives_the_same_texts(locales):
    load(FILE)
    exported = templates_for_export()
    text = template_file_dump(exported)
    before = sorted(ResponseTemplate.objects.values_list("key__key", "locale__tag", "register", "body", "status"))
    ResponseTemplate.objects.all().delete()
    TemplateKey.objects.all().delete()
    assert load(text) == {"keys": 1, "texts": 3, "unchanged": 0}
    after = sorted(ResponseTemplate.objects.values_list("key__key", "locale__tag", "register", "body", "status"))
    assert after == before
    only_de = templates_for_export(locale_ids=[locales["de-DE"].pk], statuses=["approved"])
    assert [t["locale"] for t in only_de[0]["texts"]] == ["de-DE"]


def test_the_commands_load_the_demo_file_and_export_it(tmp_path):
    call_command("locales_load")
    call_command("schema_load")
    call_command("culture_load")
    call_command("templates_load", str(ROOT / "fixtures" / "templates-demo.yaml"))
    assert ResponseTemplate.objects.filter(status="approved").count() == 6
    out = tmp_path / "all.json"
    call_command("templates_export", "--json", "--output", str(out), "--locale", "ja-JP")
    assert "アラーム" in out.read_text(encoding="utf-8") and "Wecker" not in out.read_text(encoding="utf-8")
    broken = tmp_path / "broken.yaml"
    broken.write_text("keys:\n  - key: x.y\n    source_locale: en-US\n    texts: [{locale: en-US}]\n", encoding="utf-8")
    with pytest.raises(CommandError, match=r"broken.yaml: keys\[0\].texts\[0\].body: required text"):
        call_command("templates_load", str(broken))


def test_the_command_reports_every_file_s_problems_a_missing_file_and_what_it_kept(locales, tmp_path):
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(FILE, encoding="utf-8")
    bad.write_text(FILE.replace("alarm_set.confirm", "alarm_set.cancel").replace(RU_OK, "{count, plural, one {# x} "
                   "other {# y}}").replace("status: in_review", "status: approved"), encoding="utf-8")
    worse = tmp_path / "worse.yaml"
    worse.write_text(FILE.replace("source_locale: en-US", "source_locale: xx-QQ").replace("alarm_set.confirm",
                     "alarm_set.snooze"), encoding="utf-8")
    with pytest.raises(CommandError) as caught:
        call_command("templates_load", str(good), str(bad), str(worse))
    message = str(caught.value)
    assert "template files; nothing was loaded" in message
    assert f"{bad}: keys[0].texts[2].status: cannot approve" in message and f"{worse}: keys[0].source_locale" in message
    assert not TemplateKey.objects.exists()
    with pytest.raises(CommandError, match=r"nope.yaml: \(file\): No such file"):
        call_command("templates_load", str(tmp_path / "nope.yaml"))
    call_command("templates_load", str(good))
    changed = tmp_path / "changed.yaml"
    changed.write_text(FILE.replace("sample: 2", "sample: 5"), encoding="utf-8")
    from io import StringIO

    out = StringIO()
    call_command("templates_load", str(changed), stdout=out)
    assert "1 existing key(s) declare other parameters" in out.getvalue()
    assert TemplateKey.objects.get(key="alarm_set.confirm").parameters[0]["sample"] == 2
