"""Release builds: MASSIVE layout, manifest checksums, diffs, the regression guard, atomic publish."""
import hashlib
import json
import os
import stat

import pytest
from django.core.exceptions import ValidationError

import factories as f
from parley.datasets import build as build_module
from parley.datasets.build import release_build, release_folder, staging_folders
from parley.datasets import models as dm
from parley.datasets.models import Release, ReleaseFile
from parley.datasets.services import release_create, floor_set, retirement_create
from parley.events.models import Event
from parley.nlu.services import utterance_status_change

pytestmark = pytest.mark.django_db


@pytest.fixture
def corpus():
    """Promoted rows in two locales (one MASSIVE row with its own fields, sl-SL alias), one draft."""
    sl = f.locale("sl-SI")
    f.alias(sl, "sl-SL")
    de = f.locale("de-DE")
    alarm = f.intent("alarm_set", "alarm", slots=["time"])
    rows = {
        "sl_test": f.utterance(sl, alarm, "zbudi me ob [time : petih]", status="promoted", partition="test",
                               source="massive", external_id="1",
                               provenance={"row": {"id": "1", "locale": "sl-SL", "partition": "test",
                                                   "scenario": "alarm", "intent": "alarm_set",
                                                   "utt": "zbudi me ob petih", "annot_utt": "zbudi me ob [time : petih]",
                                                   "worker_id": "8", "slot_method": [], "judgments": []},
                                           "fields": ["id", "locale", "partition", "scenario", "intent", "utt",
                                                      "annot_utt", "worker_id", "slot_method", "judgments"]}),
        "sl_train": f.utterance(sl, alarm, "alarm ob [time : šestih]", status="promoted", partition="train",
                                source="massive", external_id="2"),
        "de_test": f.utterance(de, alarm, "weck mich um [time : fünf]", status="promoted", partition="test",
                               source="collected"),
        "de_train": f.utterance(de, alarm, "wecker [time : sechs]", status="promoted", partition="train",
                                source="feedback"),
        "de_draft": f.utterance(de, alarm, "entwurf", status="draft", source="manual"),
    }
    return rows


def publish(name="core", **kwargs):
    release = release_create(name=name, actor="test", **kwargs)
    return release_build(release=release, actor="test")


def test_build_publishes_massive_layout_with_checksummed_manifest(corpus):
    release = publish()
    assert release.status == Release.Status.PUBLISHED and release.rows == 4
    folder = release_folder(release)
    assert sorted(p.name for p in (folder / "1.1" / "data").iterdir()) == ["de-DE.jsonl", "sl-SL.jsonl"]
    sl_rows = [json.loads(line) for line in (folder / "1.1/data/sl-SL.jsonl").read_text().splitlines()]
    assert list(sl_rows[0]) == ["id", "locale", "partition", "scenario", "intent", "utt", "annot_utt", "worker_id",
                                "slot_method", "judgments"]
    assert [r["locale"] for r in sl_rows] == ["sl-SL", "sl-SL"]
    de_rows = [json.loads(line) for line in (folder / "1.1/data/de-DE.jsonl").read_text().splitlines()]
    assert {r["id"] for r in de_rows} == {f"parley-{corpus['de_test'].pk}", f"parley-{corpus['de_train'].pk}"}
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["locales"]["de-DE"]["counts"] == {"test": {"alarm_set": 1}, "train": {"alarm_set": 1}}
    assert manifest["locales"]["de-DE"]["sources"] == {"collected": 1, "feedback": 1}
    assert manifest["locales"]["sl-SI"]["file_tag"] == "sl-SL"
    for entry in manifest["files"]:
        data = (folder / entry["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"] and len(data) == entry["bytes"]
    db_files = {rf.path: rf.sha256 for rf in ReleaseFile.objects.filter(release=release)}
    assert db_files["manifest.json"] == hashlib.sha256((folder / "manifest.json").read_bytes()).hexdigest()
    assert {e["source"] for e in manifest["rules"]["promotion"]} >= {"collected", "massive"}
    assert not stat.S_IMODE(os.stat(folder / "1.1/data/de-DE.jsonl").st_mode) & stat.S_IWUSR
    assert not staging_folders(release)
    assert Event.objects.filter(verb="release.published", target_id=str(release.pk)).exists()


def test_index_lines_name_uid_id_partition_intent_and_hash(corpus):
    release = publish()
    lines = (release_folder(release) / "index/de-DE.tsv").read_text().splitlines()
    jsonl = (release_folder(release) / "1.1/data/de-DE.jsonl").read_text().splitlines(keepends=True)
    uid, row_id, partition, intent, digest = lines[0].split("\t")
    assert (row_id, intent) == (f"parley-{uid}", "alarm_set")
    assert digest == hashlib.md5(jsonl[0].encode()).hexdigest()


def test_diff_against_the_previous_release(corpus):
    first = publish()
    de = corpus["de_train"].locale
    alarm = corpus["de_train"].intent
    added = f.utterance(de, alarm, "neu [time : sieben]", status="promoted", partition="train", source="feedback")
    changed = corpus["de_train"]
    changed.annotated, changed.text = "wecker [time : acht]", "wecker acht"
    changed.save()
    utterance_status_change(utterance=corpus["sl_train"], to="retired", actor="test")  # a train row may just go
    second = publish()
    assert second.previous_id == first.pk and second.version == 2
    de_diff = json.loads((release_folder(second) / "diff/de-DE.json").read_text())
    assert de_diff["added"] == [{"uid": added.pk, "id": f"parley-{added.pk}"}]
    assert de_diff["changed"] == [{"uid": changed.pk, "id": f"parley-{changed.pk}"}]
    assert (de_diff["locale"], de_diff["previous"]) == ("de-DE", "core v1")
    sl_diff = json.loads((release_folder(second) / "diff/sl-SL.json").read_text())
    assert sl_diff["removed"] == [{"uid": corpus["sl_train"].pk, "id": "2"}]
    summary = json.loads((release_folder(second) / "diff.json").read_text())
    assert summary["locales"]["sl-SI"] == {"added": 0, "removed": 1, "changed": 0, "retired": 0}
    assert second.diff_summary["de-DE"] == {"added": 1, "removed": 0, "changed": 1, "retired": 0}
    # The first release's files are untouched.
    assert "acht" not in (release_folder(first) / "1.1/data/de-DE.jsonl").read_text()


def test_dropping_a_test_row_needs_a_retirement(corpus):
    publish()
    utterance_status_change(utterance=corpus["sl_test"], to="retired", actor="test")
    refused = publish()
    assert refused.status == Release.Status.FAILED
    assert f"test row {corpus['sl_test'].pk} (id 1)" in refused.error and "dropped" in refused.error
    assert not release_folder(refused).exists() and not staging_folders(refused)
    retirement = retirement_create(locale=corpus["sl_test"].locale, row_uid=str(corpus["sl_test"].pk),
                                        reason="mistranslated", actor="test")
    third = publish()
    assert third.status == Release.Status.PUBLISHED and third.previous.version == 1
    diff = json.loads((release_folder(third) / "diff/sl-SL.json").read_text())
    assert diff["retired"] == [{"uid": corpus["sl_test"].pk, "id": "1"}]
    retirement.refresh_from_db()
    assert retirement.applied_in_id == third.pk
    assert third.manifest["retired"] == {"sl-SI": [corpus["sl_test"].pk]}


def test_changing_a_test_row_needs_a_retirement(corpus):
    publish()
    row = corpus["de_test"]
    row.annotated, row.text = "weck mich um [time : neun]", "weck mich um neun"
    row.save()
    refused = publish()
    assert refused.status == "failed" and "changed without a retirement" in refused.error


def test_test_floor_guards_each_locale_and_intent(corpus):
    floor_set(locale=corpus["de_test"].locale, minimum=2, actor="test")
    refused = publish()
    assert refused.status == "failed"
    assert "de-DE × alarm_set: 1 test rows, below the floor of 2" in refused.error
    floor_set(locale=corpus["de_test"].locale, minimum=1, actor="test")
    assert publish().status == "published"


def test_a_failed_build_never_shows_up_and_a_retry_publishes(corpus, monkeypatch):
    release = release_create(name="core", actor="test")
    original = build_module._locale_files
    calls = {"n": 0}

    def dies_on_second_locale(build, staging):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk full")
        return original(build, staging)

    monkeypatch.setattr(build_module, "_locale_files", dies_on_second_locale)
    with pytest.raises(OSError):
        release_build(release=release, actor="test")
    release.refresh_from_db()
    assert release.status == Release.Status.BUILDING and not release.path
    assert not release_folder(release).exists()
    assert not Release.objects.filter(status="published").exists()
    monkeypatch.setattr(build_module, "_locale_files", original)
    published = release_build(release=release, actor="test")
    assert published.status == "published" and published.rows == 4


def test_an_orphan_final_folder_from_a_crash_before_commit_is_replaced(corpus):
    release = release_create(name="core", actor="test")
    orphan = release_folder(release)
    orphan.mkdir(parents=True)
    (orphan / "junk.txt").write_text("from a build that died between rename and commit")
    published = release_build(release=release, actor="test")
    assert published.status == "published" and not (orphan / "junk.txt").exists()


def test_a_published_release_is_never_rebuilt(corpus):
    release = publish()
    before = (release_folder(release) / "manifest.json").read_bytes()
    f.utterance(corpus["de_test"].locale, corpus["de_test"].intent, "später", status="promoted", partition="train",
                source="feedback")
    again = release_build(release=release, actor="test")
    assert again.rows == 4 and (release_folder(release) / "manifest.json").read_bytes() == before


def test_release_names_are_slugs_and_locales_must_exist(corpus):
    with pytest.raises(ValidationError):
        release_create(name="not a slug", actor="test")
    with pytest.raises(ValidationError):
        release_create(name="core", locale_tags=["xx-XX"], actor="test")


def test_a_release_of_some_locales_leaves_the_others_out(corpus):
    release = publish(locale_tags=["de-DE"])
    assert sorted(release.manifest["locales"]) == ["de-DE"]
    assert not (release_folder(release) / "1.1/data/sl-SL.jsonl").exists()


def test_retirement_needs_a_reason_and_is_pending_once(corpus):
    sl = corpus["sl_test"].locale
    with pytest.raises(ValidationError):
        retirement_create(locale=sl, row_uid=str(corpus["sl_test"].pk), reason=" ", actor="test")
    retirement_create(locale=sl, row_uid=str(corpus["sl_test"].pk), reason="bad", actor="test")
    with pytest.raises(ValidationError):
        retirement_create(locale=sl, row_uid=str(corpus["sl_test"].pk), reason="again", actor="test")
    assert dm.TestRetirement.objects.count() == 1


def test_commands_promote_and_build(corpus, capsys):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    de = corpus["de_draft"].locale
    f.utterance(de, corpus["de_draft"].intent, "noch einer", status="accepted", source="collected")
    call_command("datasets_promote", "--locale", "de-DE")
    assert "de-DE: 1 candidates, promoted 1 test, refused 0" in capsys.readouterr().out
    call_command("release_build", "core", "--locale", "de-DE")
    out = capsys.readouterr().out
    assert "core v1 published: 3 rows" in out and "de-DE: added 3" in out
    with pytest.raises(CommandError):
        call_command("release_build", "core", "--locale", "xx-XX")


def test_release_build_if_missing_builds_once(corpus, capsys):
    from django.core.management import call_command

    call_command("release_build", "demo", "--if-missing")
    call_command("release_build", "demo", "--if-missing")
    assert list(Release.objects.filter(name="demo").values_list("version", flat=True)) == [1]
    assert "demo v1 is published already" in capsys.readouterr().out


def test_the_build_refuses_leakage_that_did_not_come_through_promotion(corpus):
    de, alarm = corpus["de_test"].locale, corpus["de_test"].intent
    # e.g. a promoted train row edited into the test sentence
    f.utterance(de, alarm, "weck mich um [time : fünf]", status="promoted", partition="train", source="manual")
    refused = publish()
    assert refused.status == "failed" and "is in test and in train/dev" in refused.error
    assert refused.manifest["violations"][0]["locale"] == "de-DE"


def test_overlaps_among_imported_rows_are_the_datasets_own_split_and_are_counted(corpus):
    sl, alarm = corpus["sl_test"].locale, corpus["sl_test"].intent
    f.utterance(sl, alarm, "zbudi me ob [time : petih]", status="promoted", partition="train", source="massive",
                external_id="77")
    release = publish()
    assert release.status == "published"
    assert release.manifest["locales"]["sl-SI"]["imported_test_train_overlaps"] == 1
    assert release.manifest["locales"]["de-DE"]["imported_test_train_overlaps"] == 0


def test_the_build_refuses_a_parallel_group_split_across_partitions(corpus):
    de, alarm = corpus["de_test"].locale, corpus["de_test"].intent
    corpus["de_test"].parallel_key = "massive:1"  # the sl test row's group
    corpus["de_test"].save()
    f.utterance(de, alarm, "anderer satz", status="promoted", partition="train", source="manual",
                parallel_key="massive:1")
    refused = publish()
    assert refused.status == "failed" and "parallel group massive:1 spans partitions" in refused.error


def test_a_build_refuses_when_the_previous_releases_files_are_gone(corpus):
    import shutil
    first = publish()
    shutil.rmtree(release_folder(first) / "index", ignore_errors=True)
    refused = publish()
    assert refused.status == "failed" and "is missing" in refused.error


def test_a_build_published_meanwhile_by_a_later_version_is_superseded(corpus):
    older = release_create(name="core", actor="test")
    newer = release_build(release=release_create(name="core", actor="test"), actor="test")
    assert newer.status == "published"
    stale = release_build(release=older, actor="test")
    assert stale.status == "failed" and "superseded" in stale.error
    assert not release_folder(stale).exists() and not staging_folders(stale)


MASSIVE_FIELDS = ["id", "locale", "partition", "scenario", "intent", "utt", "annot_utt", "worker_id", "slot_method",
                  "judgments"]


def test_every_release_row_has_the_fields_massive_loaders_read(corpus):
    """MASSIVE's loaders read each line's ten fields by name; rows of other sources carry them empty."""
    release = publish()
    for path in sorted((release_folder(release) / "1.1" / "data").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            assert [k for k in MASSIVE_FIELDS if k not in row] == [], (path.name, row)
            assert isinstance(row["slot_method"], list) and isinstance(row["judgments"], list)
    de_row = json.loads((release_folder(release) / "1.1/data/de-DE.jsonl").read_text().splitlines()[0])
    assert (de_row["worker_id"], de_row["slot_method"], de_row["judgments"]) == ("", [], [])


@pytest.mark.postgres
def test_a_second_attempt_while_one_builds_steps_aside(corpus):
    """The build lock is a PostgreSQL session lock: another connection holding it is another attempt."""
    import psycopg
    from django.db import connection

    from parley.datasets.build import BUILD_LOCK_CLASS, BuildInProgress

    release = release_create(name="core", actor="test")
    s = connection.settings_dict
    other = psycopg.connect(host=s["HOST"] or "127.0.0.1", port=s["PORT"] or 5432, user=s["USER"],
                            dbname=s["NAME"], password=s.get("PASSWORD") or None, autocommit=True)
    try:
        other.execute("SELECT pg_advisory_lock(%s, %s)", [BUILD_LOCK_CLASS, release.pk])
        with pytest.raises(BuildInProgress):
            release_build(release=release, actor="test")
        assert not staging_folders(release)
        other.execute("SELECT pg_advisory_unlock(%s, %s)", [BUILD_LOCK_CLASS, release.pk])
    finally:
        other.close()
    assert release_build(release=release, actor="test").status == "published"


def test_a_collected_rows_judgments_are_released_in_massives_form(corpus):
    """A collected row keeps its author, slot methods and its decided round's judgments (stored by
    collection in any key order) in the release's MASSIVE line, keys in the published order."""
    de_test = corpus["de_test"]
    de_test.provenance = {"worker_id": "5", "slot_method": [{"method": "translation", "slot": "time"}],
                          "judgments": [{"language_identification": "target", "spelling_score": 2, "grammar_score": 4,
                                         "slots_score": 1, "intent_score": 1, "worker_id": "6"}],
                          "collection": {"campaign": 1, "task": 1, "round": 1}}
    de_test.save()
    release = publish()
    lines = (release_folder(release) / "1.1/data/de-DE.jsonl").read_text(encoding="utf-8").splitlines()
    line = next(x for x in lines if f'"parley-{de_test.pk}"' in x)
    assert line.endswith(', "worker_id": "5", "slot_method": [{"slot": "time", "method": "translation"}], '
                         '"judgments": [{"worker_id": "6", "intent_score": 1, "slots_score": 1, "grammar_score": 4, '
                         '"spelling_score": 2, "language_identification": "target"}]}')
