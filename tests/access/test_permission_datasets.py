"""Permissions of the dataset pipeline: role × in-scope (de-DE) / out-of-scope (ja-JP), API and admin.

Releases span locales; inside one, a reader sees only their locales' files and figures.
"""
import pytest
from django.test import Client
from rest_framework.test import APIClient

import factories as f
from parley.datasets.build import release_build
from parley.datasets.models import PromotionRefusal, PromotionRule, Release
from parley.datasets.services import release_create, utterances_promote

pytestmark = pytest.mark.django_db

ROLES = ["platform_admin", "locale_lead", "linguist", "annotator", "pipeline_token", "anonymous"]
IN, OUT = "de-DE", "ja-JP"


@pytest.fixture
def world():
    de, ja = f.locale(IN), f.locale(OUT)
    alarm = f.intent("alarm_set", "alarm")
    for loc, text in ((de, "weck mich"), (ja, "起こして")):
        f.utterance(loc, alarm, text, status="promoted", partition="test", source="collected")
        f.utterance(loc, alarm, text, status="accepted", source="mined")  # refused: would leak
        utterances_promote(locale=loc, actor="test")
    release = release_build(release=release_create(name="core", actor="test"), actor="test")
    actors = {
        "platform_admin": f.member("platform_admin", None),
        "locale_lead": f.member("locale_lead", de),
        "linguist": f.member("linguist", de),
        "annotator": f.member("annotator", de, proficiency="native"),
    }
    pipe = f.member("pipeline", None)
    _, token = f.token(pipe, scopes=["datasets:read", "datasets:write"], locales=[de])
    return {"de": de, "ja": ja, "release": release, "actors": actors, "token": token}


def api(world, role) -> APIClient:
    client = APIClient()
    if role == "pipeline_token":
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {world['token']}")
    elif role != "anonymous":
        client.force_authenticate(world["actors"][role])
    return client


# (in-scope, out-of-scope) status of downloading one locale of the release
DOWNLOAD = {"platform_admin": (200, 200), "locale_lead": (200, 404), "linguist": (200, 404),
            "annotator": (403, 403), "pipeline_token": (200, 404), "anonymous": (401, 401)}
# (in, out) status of queueing a promotion of the locale
PROMOTE = {"platform_admin": (202, 202), "locale_lead": (202, 400), "linguist": (400, 400),
           "annotator": (400, 400), "pipeline_token": (400, 400), "anonymous": (401, 401)}
# (in, out) status of a release of one named locale
BUILD = {"platform_admin": (202, 202), "locale_lead": (202, 400), "linguist": (400, 400),
         "annotator": (403, 403), "pipeline_token": (400, 400), "anonymous": (401, 401)}
# (in, out) status of setting the locale's promotion rule
RULE = {"platform_admin": (201, 201), "locale_lead": (201, 400), "linguist": (400, 400),
        "annotator": (400, 400), "pipeline_token": (400, 400), "anonymous": (401, 401)}


@pytest.mark.parametrize("role", ROLES)
def test_download_matrix(world, role):
    client = api(world, role)
    for tag, expected in zip((IN, OUT), DOWNLOAD[role]):
        response = client.get(f"/api/v1/releases/{world['release'].pk}/download/?locale={tag}")
        assert response.status_code == expected, (tag, response.content[:200])


@pytest.mark.parametrize("role", ROLES)
def test_manifest_and_list_show_only_the_callers_locales(world, role):
    response = api(world, role).get(f"/api/v1/releases/{world['release'].pk}/manifest/")
    expected_status = DOWNLOAD[role][0]
    assert response.status_code == expected_status
    if expected_status == 200:
        visible = {IN, OUT} if DOWNLOAD[role][1] == 200 else {IN}
        assert set(response.json()["locales"]) == visible
        listing = api(world, role).get("/api/v1/releases/").json()["results"]
        assert set(listing[0]["locales"]) == visible


@pytest.mark.parametrize("role", ROLES)
def test_promotion_matrix(world, role, django_capture_on_commit_callbacks):
    client = api(world, role)
    for tag, expected in zip((IN, OUT), PROMOTE[role]):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/api/v1/promotions/", {"locales": [tag]}, format="json")
        assert response.status_code == expected, (tag, response.content)


@pytest.mark.parametrize("role", ROLES)
def test_release_build_matrix(world, role, django_capture_on_commit_callbacks):
    client = api(world, role)
    for tag, expected in zip((IN, OUT), BUILD[role]):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/api/v1/releases/", {"name": "x", "locales": [tag]}, format="json")
        assert response.status_code == expected, (tag, response.content)
    every = client.post("/api/v1/releases/", {"name": "everything"}, format="json").status_code
    assert every == {"platform_admin": 202, "anonymous": 401}.get(role, 403)


@pytest.mark.parametrize("role", ROLES)
def test_promotion_rule_matrix(world, role):
    client = api(world, role)
    for tag, expected in zip((IN, OUT), RULE[role]):
        response = client.post("/api/v1/promotion-rules/", {"locale": tag, "source": "mined", "target": "dev"},
                               format="json")
        assert response.status_code == expected, (tag, response.content)
    changed = set(PromotionRule.objects.filter(source="mined", target="dev").values_list("locale__tag", flat=True))
    assert changed == {tag for tag, code in zip((IN, OUT), RULE[role]) if code == 201}


@pytest.mark.parametrize("role, visible", [("platform_admin", {IN, OUT}), ("locale_lead", {IN}),
                                           ("linguist", {IN}), ("pipeline_token", set())])
def test_refusals_are_listed_in_scope(world, role, visible):
    assert PromotionRefusal.objects.count() == 2
    response = api(world, role).get("/api/v1/promotion-refusals/")
    assert response.status_code == 200
    assert {r["locale"] for r in response.json()["results"]} == visible


def test_a_token_limited_to_de_cannot_widen_a_release(world):
    client = api(world, "pipeline_token")
    # The pipeline role has no build permission whatever its token says.
    assert client.post("/api/v1/releases/", {"name": "x", "locales": [IN]}, format="json").status_code == 400
    assert not Release.objects.filter(name="x").exists()


def admin(world, role) -> Client:
    client = Client()
    client.force_login(world["actors"][role])
    return client


@pytest.mark.parametrize("role, shows_in, shows_out", [("platform_admin", True, True), ("locale_lead", True, False),
                                                       ("linguist", True, False)])
def test_admin_refusals_and_rules_are_scoped(world, role, shows_in, shows_out):
    client = admin(world, role)
    listing = client.get("/admin/datasets/promotionrefusal/").content.decode()
    refusal_in = PromotionRefusal.objects.get(locale=world["de"])
    refusal_out = PromotionRefusal.objects.get(locale=world["ja"])
    assert (f"/admin/datasets/promotionrefusal/{refusal_in.pk}/" in listing) == shows_in
    assert (f"/admin/datasets/promotionrefusal/{refusal_out.pk}/" in listing) == shows_out
    page = client.get(f"/admin/datasets/promotionrefusal/{refusal_out.pk}/change/")
    assert page.status_code == (200 if shows_out else 302)


@pytest.mark.parametrize("role, sees, may_add", [("platform_admin", True, True), ("locale_lead", True, True),
                                                 ("linguist", True, False), ("annotator", False, False)])
def test_admin_releases(world, role, sees, may_add):
    client = admin(world, role)
    listing = client.get("/admin/datasets/release/")
    assert listing.status_code == (200 if sees else 302 if role == "annotator" else 403)
    assert (client.get("/admin/datasets/release/add/").status_code == 200) == may_add


def test_a_lead_adds_a_release_of_their_locale_in_the_admin_but_not_of_another(world,
                                                                                django_capture_on_commit_callbacks):
    client = admin(world, "locale_lead")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/admin/datasets/release/add/", {"name": "lead-cut", "locales": [world["de"].pk], "notes": ""})
    made = Release.objects.get(name="lead-cut")
    assert (made.status, made.locale_tags) == ("published", [IN])
    client.post("/admin/datasets/release/add/", {"name": "sneaky", "locales": [world["ja"].pk], "notes": ""})
    assert not Release.objects.filter(name="sneaky").exists()
    client.post("/admin/datasets/release/add/", {"name": "everything", "notes": ""})
    assert not Release.objects.filter(name="everything").exists()


@pytest.mark.parametrize("role, allowed", [("platform_admin", True), ("locale_lead", False), ("linguist", False)])
def test_admin_webhooks_are_for_platform_admins(world, role, allowed):
    client = admin(world, role)
    assert (client.get("/admin/datasets/webhook/").status_code == 200) == allowed
    assert (client.get("/admin/datasets/webhookdelivery/").status_code == 200) == allowed


def test_admin_lead_cannot_change_a_default_rule(world):
    client = admin(world, "locale_lead")
    rule = PromotionRule.objects.get(locale__isnull=True, source="collected")
    client.post(f"/admin/datasets/promotionrule/{rule.pk}/change/",
                {"target": "train", "split_train": "0.8", "split_dev": "0.1", "split_test": "0.1", "seed": 0})
    rule.refresh_from_db()
    assert rule.target == "test"



def test_a_lead_cannot_cut_a_new_version_of_a_release_covering_other_locales(world):
    client = api(world, "locale_lead")
    response = client.post("/api/v1/releases/", {"name": "core", "locales": [IN]}, format="json")
    assert response.status_code == 403 and "covers locales you may not build" in response.json()["error"]["message"]
    assert not Release.objects.filter(name="core", version=2).exists()


def test_a_reader_of_one_locale_sees_only_its_rows_errors_and_rules(world):
    from parley.datasets.services import floor_set

    floor_set(locale=world["ja"], minimum=5, actor="test")
    failed = release_build(release=release_create(name="core", actor="test"), actor="test")
    assert failed.status == "failed" and "ja-JP × alarm_set" in failed.error
    lead = api(world, "locale_lead")
    listing = {r["version"]: r for r in lead.get("/api/v1/releases/").json()["results"]}
    assert listing[1]["rows"] == 1  # de-DE's row only; the release has two
    assert 2 not in listing  # a failed release of everything is not the lead's to follow
    admin_view = {r["version"]: r for r in api(world, "platform_admin").get("/api/v1/releases/").json()["results"]}
    assert admin_view[1]["rows"] == 2 and "ja-JP" in admin_view[2]["error"]
    manifest = lead.get(f"/api/v1/releases/{world['release'].pk}/manifest/").json()
    assert {r["locale"] for r in manifest["rules"]["test_floors"]} <= {IN}
    assert {r["locale"] for r in manifest["rules"]["promotion"]} <= {IN, "*"}


def test_a_release_of_only_other_locales_is_not_listed(world):
    ja_only = release_build(release=release_create(name="ja-only", locale_tags=[OUT], actor="test"), actor="test")
    assert ja_only.status == "published"
    names = {r["name"] for r in api(world, "pipeline_token").get("/api/v1/releases/").json()["results"]}
    assert names == {"core"}
    assert api(world, "pipeline_token").get(f"/api/v1/releases/{ja_only.pk}/manifest/").status_code == 404


def test_admin_release_page_shows_only_the_users_locales(world):
    page = admin(world, "linguist").get(f"/admin/datasets/release/{world['release'].pk}/change/").content.decode()
    assert "de-DE" in page and "ja-JP" not in page
    everything = admin(world, "platform_admin").get(f"/admin/datasets/release/{world['release'].pk}/change/")
    assert "ja-JP" in everything.content.decode()
    ja_only = release_build(release=release_create(name="ja-only", locale_tags=[OUT], actor="test"), actor="test")
    listing = admin(world, "linguist").get("/admin/datasets/release/").content.decode()
    assert f"/admin/datasets/release/{ja_only.pk}/change/" not in listing
    assert f"/admin/datasets/release/{world['release'].pk}/change/" in listing


def test_admin_floor_deletion_is_logged_and_rules_cannot_be_deleted(world):
    from parley.datasets.models import TestFloor as Floor
    from parley.datasets.services import floor_set
    from parley.events.models import Event

    floor = floor_set(locale=world["de"], minimum=1, actor="test")
    client = admin(world, "locale_lead")
    client.post(f"/admin/datasets/testfloor/{floor.pk}/delete/", {"post": "yes"})
    assert not Floor.objects.filter(pk=floor.pk).exists()
    assert Event.objects.filter(verb="datasets.test_floor_deleted", locale_tag=IN).exists()
    rule = PromotionRule.objects.filter(locale__isnull=True).first()
    assert admin(world, "platform_admin").get(f"/admin/datasets/promotionrule/{rule.pk}/delete/").status_code == 403


def test_api_builds_a_stuck_release_again(world, django_capture_on_commit_callbacks):
    stuck = release_create(name="stuck", locale_tags=[IN], actor=world["actors"]["locale_lead"])
    lead = api(world, "locale_lead")
    assert api(world, "linguist").post(f"/api/v1/releases/{stuck.pk}/build/").status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        response = lead.post(f"/api/v1/releases/{stuck.pk}/build/")
    assert response.status_code == 202
    stuck.refresh_from_db()
    assert stuck.status == "published"
    assert lead.post(f"/api/v1/releases/{stuck.pk}/build/").status_code == 400  # published: nothing to do


def test_a_read_only_token_cannot_write(world):
    pipe = f.member("platform_admin", None)
    _, token = f.token(pipe, scopes=["datasets:read"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get("/api/v1/releases/").status_code == 200
    assert client.post("/api/v1/releases/", {"name": "x"}, format="json").status_code == 403
    assert client.post("/api/v1/promotions/", {"locales": [IN]}, format="json").status_code == 403
    assert client.post("/api/v1/test-retirements/", {"locale": IN, "row_uid": "1", "reason": "x"},
                       format="json").status_code == 403


@pytest.mark.parametrize("role, in_status, out_status", [
    ("platform_admin", 200, 200), ("locale_lead", 200, 404), ("linguist", 200, 404), ("annotator", 404, 404),
    ("anonymous", 401, 401)])
def test_reviewing_candidates_is_scoped(world, role, in_status, out_status):
    alarm = f.intent("alarm_set", "alarm")
    mine = f.utterance(world["de"], alarm, "kandidat", status="submitted", source="mined")
    theirs = f.utterance(world["ja"], alarm, "候補", status="submitted", source="mined")
    client = api(world, role)
    for utterance, expected in ((mine, in_status), (theirs, out_status)):
        response = client.post(f"/api/v1/utterances/{utterance.pk}/review/", {"decision": "accept"}, format="json")
        assert response.status_code == expected, response.content
        utterance.refresh_from_db()
        assert (utterance.status == "accepted") == (expected == 200)


def test_admin_accept_action_reviews_only_the_users_locales(world):
    alarm = f.intent("alarm_set", "alarm")
    mine = f.utterance(world["de"], alarm, "kandidat", status="submitted", source="feedback", partition="train")
    admin(world, "linguist").post("/admin/nlu/utterance/", {"action": "accept_candidates",
                                                             "_selected_action": [mine.pk]})
    mine.refresh_from_db()
    assert mine.status == "accepted"
