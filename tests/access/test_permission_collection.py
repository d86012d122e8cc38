"""Who may see and steer collection campaigns and work their tasks: role × in/out-of-scope locale,
in the API, the admin and the /collect/ pages.

ar-SA is in scope (leads, linguists and native annotators hold it; pipeline tokens are limited to
it); ja-JP is out of scope for all but the platform admin. Campaigns: one ar-SA only, one ja-JP
only, one covering both. Out-of-scope objects answer 404.
"""
import pytest
from django.test import Client
from rest_framework.test import APIClient

import factories as f
from parley.collection.models import Campaign, Task

pytestmark = pytest.mark.django_db

IN, OUT = "ar-SA", "ja-JP"


@pytest.fixture
def world():
    ar, ja = f.locale(IN), f.locale(OUT)
    alarm = f.intent("alarm_set", "alarm", slots=["time"])
    campaigns = {"in": f.campaign([ar], [alarm], name="in"), "out": f.campaign([ja], [alarm], name="out"),
                 "both": f.campaign([ar, ja], [alarm], name="both")}
    actors = {
        "platform_admin": f.member("platform_admin", None, username="admin"),
        "locale_lead": f.member("locale_lead", ar, username="lead"),
        "linguist": f.member("linguist", ar, username="ling"),
        "annotator": f.native(ar, "anno"),
        "fluent_annotator": f.member("annotator", ar, username="fluent", proficiency="fluent"),
    }
    pipe = f.member("pipeline", None, username="pipe")
    tokens = {"pipeline_token": f.token(pipe, scopes=["collection:read"], locales=[ar])[1],
              "unlimited_token": f.token(pipe, scopes=["collection:read"])[1],
              "token_without_scope": f.token(pipe, scopes=["utterances:read"], locales=[ar])[1],
              "lead_token": f.token(actors["locale_lead"], scopes=["collection:read", "collection:write"])[1],
              "lead_read_token": f.token(actors["locale_lead"], scopes=["collection:read"])[1]}
    return {"ar": ar, "ja": ja, "campaigns": campaigns, "actors": actors, "tokens": tokens}


def api(world, role) -> APIClient:
    client = APIClient()
    if role in world["tokens"]:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {world['tokens'][role]}")
    elif role != "anonymous":
        client.force_authenticate(world["actors"][role])
    return client


def web(world, role) -> Client:
    client = Client()
    if role != "anonymous":
        client.force_login(world["actors"][role])
    return client


ALL = {"in", "out", "both"}


@pytest.mark.parametrize("role, status, visible", [
    ("platform_admin", 200, ALL),
    ("locale_lead", 200, {"in", "both"}),
    ("linguist", 200, {"in", "both"}),
    ("annotator", 200, set()),  # annotators work in /collect/, they do not read campaigns
    ("pipeline_token", 200, {"in", "both"}),
    ("unlimited_token", 200, ALL),
    ("token_without_scope", 403, None),
    ("anonymous", 401, None),
])
def test_api_campaign_list_is_scoped(world, role, status, visible):
    response = api(world, role).get("/api/v1/collection/campaigns/")
    assert response.status_code == status, response.content
    if visible is not None:
        assert {c["name"] for c in response.json()["results"]} == visible


@pytest.mark.parametrize("role, out_status", [
    ("platform_admin", 200), ("locale_lead", 404), ("linguist", 404), ("annotator", 404), ("pipeline_token", 404)])
def test_api_campaign_detail_and_figures_answer_404_out_of_scope(world, role, out_status):
    client = api(world, role)
    for suffix in ("", "progress/", "agreement/", "judgments/"):
        assert client.get(f"/api/v1/collection/campaigns/{world['campaigns']['out'].pk}/{suffix}").status_code == out_status


@pytest.mark.parametrize("role, tags", [("platform_admin", {IN, OUT}), ("locale_lead", {IN}), ("pipeline_token", {IN})])
def test_api_mixed_campaign_shows_only_the_callers_locales(world, role, tags):
    client = api(world, role)
    both = world["campaigns"]["both"].pk
    assert {x["tag"] for x in client.get(f"/api/v1/collection/campaigns/{both}/").json()["locales"]} == tags
    assert {c["locale"] for c in client.get(f"/api/v1/collection/campaigns/{both}/progress/").json()["cells"]} == tags


@pytest.mark.parametrize("role, in_status, both_status", [
    ("platform_admin", 200, 200),
    ("locale_lead", 200, 403),  # leads ar-SA only: may not pause ja-JP's part
    ("lead_token", 200, 403),
    ("lead_read_token", 403, 403),  # the token lacks collection:write
    ("linguist", 403, 403),
    ("pipeline_token", 403, 403),
])
def test_api_status_change_needs_the_lead_role_in_every_locale(world, role, in_status, both_status):
    client = api(world, role)
    for name, expected in (("in", in_status), ("both", both_status)):
        response = client.post(f"/api/v1/collection/campaigns/{world['campaigns'][name].pk}/status/", {"to": "paused"},
                               format="json")
        assert response.status_code == expected, (name, response.content)
        assert Campaign.objects.get(pk=world["campaigns"][name].pk).status == ("paused" if expected == 200 else "active")
    assert client.post(f"/api/v1/collection/campaigns/{world['campaigns']['out'].pk}/status/", {"to": "paused"},
                       format="json").status_code == {"platform_admin": 200, "lead_read_token": 403,
                                                      "pipeline_token": 403}.get(role, 404)  # scope first


@pytest.mark.parametrize("role, listed, out_page", [
    ("platform_admin", ALL, 200), ("locale_lead", {"in", "both"}, 302), ("linguist", {"in", "both"}, 302)])
def test_admin_campaigns_are_scoped(world, role, listed, out_page):
    client = web(world, role)
    page = client.get("/admin/collection/campaign/").content.decode()
    shown = {name for name in ALL if f">{name}</a>" in page}
    assert shown == listed
    assert client.get(f"/admin/collection/campaign/{world['campaigns']['out'].pk}/change/").status_code == out_page
    tasks = client.get("/admin/collection/task/").content.decode()
    out_task = Task.objects.filter(locale=world["ja"]).first()
    assert (f"/admin/collection/task/{out_task.pk}/change/" in tasks) == (role == "platform_admin")


@pytest.mark.parametrize("role, can_act", [("platform_admin", True), ("locale_lead", True), ("linguist", False)])
def test_admin_status_action_respects_scope_and_role(world, role, can_act):
    client = web(world, role)
    ids = [c.pk for c in world["campaigns"].values()]
    client.post("/admin/collection/campaign/", {"action": "pause", "_selected_action": ids})
    statuses = {c.name: c.status for c in Campaign.objects.all()}
    assert statuses["in"] == ("paused" if can_act else "active")
    assert statuses["both"] == ("paused" if role == "platform_admin" else "active")
    assert statuses["out"] == ("paused" if role == "platform_admin" else "active")


@pytest.mark.parametrize("role", ["annotator", "fluent_annotator"])
def test_admin_is_closed_to_annotators(world, role):
    response = web(world, role).get("/admin/collection/campaign/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.mark.parametrize("role, listed", [
    ("annotator", {"in", "both"}), ("fluent_annotator", set()), ("locale_lead", set()), ("linguist", set())])
def test_collect_lists_campaigns_of_native_locales_only(world, role, listed):
    page = web(world, role).get("/collect/").content.decode()
    shown = {name for name, c in world["campaigns"].items() if f"data-campaign=\"{c.pk}\"" in page}
    assert shown == listed


def test_collect_claim_and_tasks_out_of_scope_answer_404(world):
    client = web(world, "annotator")
    assert client.post(f"/collect/campaigns/{world['campaigns']['out'].pk}/next/").status_code == 404
    assert client.post(f"/collect/campaigns/{world['campaigns']['in'].pk}/next/").status_code == 302
    ja_task = Task.objects.filter(locale=world["ja"]).first()
    for url in (f"/collect/tasks/{ja_task.pk}/", f"/collect/tasks/{ja_task.pk}/check/?annotated=x"):
        assert client.get(url).status_code == 404
    assert client.post(f"/collect/tasks/{ja_task.pk}/skip/", {"reason": "x"}).status_code == 404
    fluent = web(world, "fluent_annotator")
    assert fluent.post(f"/collect/campaigns/{world['campaigns']['in'].pk}/next/").status_code == 404


@pytest.mark.parametrize("role, home, in_page, out_page, both_status_post", [
    ("platform_admin", 200, 200, 200, 302),
    ("locale_lead", 200, 200, 404, 403),
    ("linguist", 200, 200, 404, 403),
    ("annotator", 404, 404, 404, 404),
])
def test_collect_lead_dashboard_is_scoped(world, role, home, in_page, out_page, both_status_post):
    client = web(world, role)
    assert client.get("/collect/lead/").status_code == home
    c = world["campaigns"]
    assert client.get(f"/collect/lead/{c['in'].pk}/").status_code == in_page
    assert client.get(f"/collect/lead/{c['out'].pk}/").status_code == out_page
    assert client.get(f"/collect/lead/{c['out'].pk}/export.csv").status_code == out_page
    assert client.post(f"/collect/lead/{c['both'].pk}/status/", {"to": "paused"}).status_code == both_status_post


def test_collect_needs_a_login(world):
    client = Client()
    for url in ("/collect/", "/collect/progress/", "/collect/lead/", f"/collect/lead/{world['campaigns']['in'].pk}/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/collect/login/")


def test_admin_campaign_source_locale_offers_only_readable_locales(world):
    """Localize tasks show the source locale's utterances to annotators (security review)."""
    page = web(world, "locale_lead").get("/admin/collection/campaign/add/").content.decode()
    source_field = page[page.index('name="source_locale"'):]
    source_field = source_field[:source_field.index("</select>")]
    assert f'value="{world["ar"].pk}"' in source_field
    assert f'value="{world["ja"].pk}"' not in source_field


def test_admin_campaign_page_shows_only_the_users_locale_rows(world):
    from parley.collection.models import CampaignLocale

    both = world["campaigns"]["both"]
    CampaignLocale.objects.filter(campaign=both, locale=world["ja"]).update(instructions="nur für ja-JP sichtbar")
    page = web(world, "locale_lead").get(f"/admin/collection/campaign/{both.pk}/change/").content.decode()
    assert "nur für ja-JP sichtbar" not in page
    listing = web(world, "locale_lead").get("/admin/collection/campaign/").content.decode()
    assert "ja-JP" not in listing
    everything = web(world, "platform_admin").get(f"/admin/collection/campaign/{both.pk}/change/").content.decode()
    assert "nur für ja-JP sichtbar" in everything


def test_admin_task_list_filter_names_only_visible_campaigns(world):
    from parley.collection.models import Campaign

    Campaign.objects.filter(pk=world["campaigns"]["out"].pk).update(name="geheim-ja")
    page = web(world, "locale_lead").get("/admin/collection/task/").content.decode()
    assert "geheim-ja" not in page
