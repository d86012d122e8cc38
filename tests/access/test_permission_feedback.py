"""Feedback permissions: role × in-scope (de-DE) / out-of-scope (ja-JP) locale, API and admin.

As in test_permission_matrix: every role is scoped to de-DE; the pipeline token (pipeline role in
every locale) is limited to de-DE; ja-JP is out of scope for all but the platform admin.
"""
from datetime import datetime, timedelta, timezone as tz

import pytest
from django.test import Client
from rest_framework.test import APIClient

import factories as f
from role_clients import api_client
from parley.feedback import services
from parley.feedback.models import FeedbackCluster, FeedbackEvent, ParaphraseCandidate

pytestmark = pytest.mark.django_db

ROLES = ["platform_admin", "locale_lead", "linguist", "annotator", "pipeline_token", "anonymous"]
IN, OUT = "de-DE", "ja-JP"


@pytest.fixture
def world():
    de, ja = f.locale(IN), f.locale(OUT)
    f.intent("alarm_set", "alarm", slots=["time"])
    actors = {
        "platform_admin": f.member("platform_admin", None, username="admin"),
        "locale_lead": f.member("locale_lead", de, username="lead"),
        "linguist": f.member("linguist", de, username="ling"),
        "linguist2": f.member("linguist", de, username="ling2"),
        "annotator": f.member("annotator", de, username="anno", proficiency="native"),
    }
    pipe = f.member("pipeline", None, username="pipe")
    _, plaintext = f.token(pipe, scopes=["feedback:write", "feedback:read", "feedback:triage"], locales=[de])
    clusters, candidates = {}, {}
    t0 = datetime(2026, 11, 30, 10, tzinfo=tz.utc)
    for tag in (IN, OUT):
        key = f"seed-{tag}"
        f.feedback_ingest(f.feedback_item(key, locale=tag, text="hallo welt"))
        clusters[tag] = FeedbackCluster.objects.get(events__idempotency_key=key)
        items = []
        for n in range(3):
            session = f"{tag}{n}".replace("-", "").ljust(32, "0")
            items += [f.feedback_item(f"f{tag}{n}", locale=tag, session=session, text="bring mich um sieben hoch",
                                      timestamp=t0.isoformat()),
                      f.feedback_item(f"s{tag}{n}", locale=tag, session=session, text="weck mich um sieben",
                                      signal="success", intent="alarm_set", slots=[{"type": "time", "value": "sieben"}],
                                      timestamp=(t0 + timedelta(seconds=5)).isoformat())]
        f.feedback_ingest(*items)
    services.paraphrases_mine(window_seconds=60, min_support=3)
    for tag in (IN, OUT):
        candidates[tag] = ParaphraseCandidate.objects.get(locale__tag=tag)
    return {"de": de, "ja": ja, "actors": actors, "token": plaintext, "clusters": clusters, "candidates": candidates}


def admin_client(world, role) -> Client:
    client = Client()
    if role not in ("pipeline_token", "anonymous"):
        client.force_login(world["actors"][role])
    return client


# Expected HTTP status for (action, role) on the in-scope and the out-of-scope locale.
API_MATRIX = {
    #                    admin        lead         linguist     annotator    pipeline     anonymous
    "retrieve_cluster": [(200, 200), (200, 404), (200, 404), (404, 404), (404, 404), (401, 401)],
    "triage":           [(200, 200), (200, 404), (200, 404), (404, 404), (404, 404), (401, 401)],
    "assign_linguist":  [(200, 400), (200, 404), (200, 404), (404, 404), (404, 404), (401, 401)],
    "assign_other":     [(200, 400), (200, 404), (403, 404), (404, 404), (404, 404), (401, 401)],
    "reopen":           [(200, 200), (200, 404), (403, 404), (404, 404), (404, 404), (401, 401)],
    "list_events":      [(200, 200), (200, 200), (200, 200), (200, 200), (200, 200), (401, 401)],
    "accept_paraphrase": [(200, 200), (200, 404), (200, 404), (404, 404), (404, 404), (401, 401)],
}


def _call(client, world, action, tag):
    cluster = world["clusters"][tag]
    if action == "retrieve_cluster":
        return client.get(f"/api/v1/feedback/clusters/{cluster.pk}/")
    if action == "triage":
        return client.post(f"/api/v1/feedback/clusters/{cluster.pk}/triage/", {}, format="json")
    if action == "assign_linguist":  # the de-DE linguist (themself, for the linguist): an assignee of de-DE only
        return client.post(f"/api/v1/feedback/clusters/{cluster.pk}/assign/", {"assignee": "ling"}, format="json")
    if action == "assign_other":  # another de-DE linguist: only leads hand work to others
        return client.post(f"/api/v1/feedback/clusters/{cluster.pk}/assign/", {"assignee": "ling2"}, format="json")
    if action == "reopen":
        services.cluster_close(cluster=cluster, resolution="not_a_bug", actor="test")
        return client.post(f"/api/v1/feedback/clusters/{cluster.pk}/reopen/", {}, format="json")
    if action == "list_events":
        return client.get(f"/api/v1/feedback/events/?locale={tag}")
    return client.post(f"/api/v1/feedback/paraphrases/{world['candidates'][tag].pk}/accept/", {}, format="json")


@pytest.mark.parametrize("action", API_MATRIX)
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("where", ["in", "out"])
def test_api_feedback_matrix(world, action, role, where):
    tag = IN if where == "in" else OUT
    expected = API_MATRIX[action][ROLES.index(role)][0 if where == "in" else 1]
    response = _call(api_client(world, role), world, action, tag)
    assert response.status_code == expected, response.content
    if expected >= 400:
        assert "error" in response.json()
    cluster = FeedbackCluster.objects.get(pk=world["clusters"][tag].pk)
    if action == "triage":
        assert (cluster.status == "triaged") == (expected == 200)
    if action == "reopen":
        assert (cluster.status == "triaged") == (expected == 200)
    if action in ("assign_linguist", "assign_other"):
        assert (cluster.assignee is not None) == (expected == 200)
    if action == "accept_paraphrase":
        assert (ParaphraseCandidate.objects.get(pk=world["candidates"][tag].pk).status == "accepted") == \
            (expected == 200)


@pytest.mark.parametrize("role, visible", [
    ("platform_admin", {IN, OUT}), ("locale_lead", {IN}), ("linguist", {IN}), ("annotator", set()),
    ("pipeline_token", set()),  # feedback:read, but the pipeline role reads no clusters
])
def test_api_lists_never_leak_out_of_scope(world, role, visible):
    client = api_client(world, role)
    for path in ("clusters", "paraphrases", "events"):
        rows = client.get(f"/api/v1/feedback/{path}/").json()["results"]
        assert {r["locale"] for r in rows} == visible, path
        assert {r["locale"] for r in client.get(f"/api/v1/feedback/{path}/?locale={OUT}").json()["results"]} == \
            visible & {OUT}


# Ingestion: (HTTP status, status of the de-DE item, status of the ja-JP item)
INGEST = {
    "platform_admin": (200, "created", "created"),
    "locale_lead": (403, None, None),
    "linguist": (403, None, None),
    "annotator": (403, None, None),
    "pipeline_token": (200, "created", "rejected"),  # the token's locale limit, item by item
    "anonymous": (401, None, None),
}


@pytest.mark.parametrize("role", ROLES)
def test_api_ingest_matrix(world, role):
    code, in_status, out_status = INGEST[role]
    response = api_client(world, role).post("/api/v1/feedback/events", {"events": [
        f.feedback_item("new-in", locale=IN), f.feedback_item("new-out", locale=OUT)]}, format="json")
    assert response.status_code == code, response.content
    if code == 200:
        assert [r["status"] for r in response.json()["results"]] == [in_status, out_status]
    stored = set(FeedbackEvent.objects.filter(idempotency_key__startswith="new-").values_list("locale__tag", flat=True))
    assert stored == {tag for tag, s in ((IN, in_status), (OUT, out_status)) if s == "created"}


def test_token_scopes_gate_each_endpoint(world):
    ling = world["actors"]["linguist"]
    _, read_only = f.token(ling, scopes=["feedback:read"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {read_only}")
    cluster = world["clusters"][IN]
    assert client.get(f"/api/v1/feedback/clusters/{cluster.pk}/").status_code == 200
    assert client.post(f"/api/v1/feedback/clusters/{cluster.pk}/triage/", {}, format="json").status_code == 403
    assert client.post("/api/v1/feedback/events", {"events": []}, format="json").status_code == 403
    _, triage = f.token(ling, scopes=["feedback:read", "feedback:triage"])
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {triage}")
    assert client.post(f"/api/v1/feedback/clusters/{cluster.pk}/triage/", {}, format="json").status_code == 200


def test_token_locale_limit_narrows_a_platform_admin(world):
    _, limited = f.token(world["actors"]["platform_admin"], scopes=["feedback:read", "feedback:triage"],
                         locales=[world["de"]])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {limited}")
    assert client.get(f"/api/v1/feedback/clusters/{world['clusters'][OUT].pk}/").status_code == 404
    assert client.post("/api/v1/feedback/paraphrases/mine/", {}, format="json").status_code == 403


# Admin: (changelist shows in, shows out, change page in, change page out)
ADMIN_MATRIX = {
    "platform_admin": (True, True, 200, 200),
    "locale_lead": (True, False, 200, 302),
    "linguist": (True, False, 200, 302),
}


@pytest.mark.parametrize("model", ["feedbackcluster", "paraphrasecandidate", "feedbackevent"])
@pytest.mark.parametrize("role", list(ADMIN_MATRIX))
def test_admin_feedback_is_scoped(world, role, model):
    shows_in, shows_out, page_in, page_out = ADMIN_MATRIX[role]
    client = admin_client(world, role)
    objects = {"feedbackcluster": world["clusters"], "paraphrasecandidate": world["candidates"],
               "feedbackevent": {t: FeedbackEvent.objects.filter(locale__tag=t).first() for t in (IN, OUT)}}[model]
    listing = client.get(f"/admin/feedback/{model}/").content.decode()
    assert (f"/admin/feedback/{model}/{objects[IN].pk}/change/" in listing) == shows_in
    assert (f"/admin/feedback/{model}/{objects[OUT].pk}/change/" in listing) == shows_out
    assert client.get(f"/admin/feedback/{model}/{objects[IN].pk}/change/").status_code == page_in
    assert client.get(f"/admin/feedback/{model}/{objects[OUT].pk}/change/").status_code == page_out


@pytest.mark.parametrize("role, moved", [("platform_admin", {IN, OUT}), ("locale_lead", {IN}), ("linguist", {IN})])
def test_admin_triage_action_respects_scope(world, role, moved):
    client = admin_client(world, role)
    client.post("/admin/feedback/feedbackcluster/", {
        "action": "triage", "_selected_action": [c.pk for c in world["clusters"].values()]})
    triaged = set(FeedbackCluster.objects.filter(status="triaged").values_list("locale__tag", flat=True))
    assert triaged == moved


@pytest.mark.parametrize("role, reopened", [("locale_lead", True), ("linguist", False)])
def test_admin_reopen_is_for_leads(world, role, reopened):
    cluster = world["clusters"][IN]
    services.cluster_close(cluster=cluster, resolution="wont_fix", actor="test")
    admin_client(world, role).post("/admin/feedback/feedbackcluster/", {"action": "reopen",
                                                                        "_selected_action": [cluster.pk]})
    assert (FeedbackCluster.objects.get(pk=cluster.pk).status == "triaged") == reopened


@pytest.mark.parametrize("role", ["annotator", "pipeline_token", "anonymous"])
def test_admin_is_closed_to_roles_without_admin_access(world, role):
    response = admin_client(world, role).get("/admin/feedback/feedbackcluster/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.mark.parametrize("role", ["locale_lead", "linguist"])
def test_admin_change_page_of_an_out_of_scope_cluster_cannot_be_posted_to(world, role):
    cluster = world["clusters"][OUT]
    response = admin_client(world, role).post(f"/admin/feedback/feedbackcluster/{cluster.pk}/change/", {
        "step": "close_not_a_bug", "note": "from outside", "partition": "train"})
    assert response.status_code == 302 and f"/{cluster.pk}/" not in response["Location"]
    assert FeedbackCluster.objects.get(pk=cluster.pk).status == "new"
    page = admin_client(world, role).post(f"/admin/feedback/paraphrasecandidate/{world['candidates'][OUT].pk}/change/",
                                          {"decision": "accept", "corrected": "", "reason": ""})
    assert page.status_code == 302
    assert ParaphraseCandidate.objects.get(pk=world["candidates"][OUT].pk).status == "pending"


def test_admin_annotator_of_the_locale_cannot_act_even_by_post(world):
    # Annotators have no admin: a forged POST is sent to the login page and changes nothing.
    client = Client()
    client.force_login(world["actors"]["annotator"])
    cluster = world["clusters"][IN]
    response = client.post("/admin/feedback/feedbackcluster/", {"action": "triage", "_selected_action": [cluster.pk]})
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert FeedbackCluster.objects.get(pk=cluster.pk).status == "new"
