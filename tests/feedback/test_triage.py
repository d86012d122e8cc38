"""The triage lifecycle: every transition, who may make it, and the event row it leaves."""
import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from parley.events.models import Event
from parley.feedback import services
from parley.feedback.models import FeedbackCluster

pytestmark = pytest.mark.django_db
S = FeedbackCluster.Status


def _status_events(cluster):
    return list(Event.objects.filter(verb="feedback_cluster.status_changed", target_id=str(cluster.pk))
                .order_by("id").values_list("actor_label", "payload__to__status"))


@pytest.mark.parametrize("who, allowed", [("admin", True), ("lead", True), ("ling", True), ("ling_ja", False),
                                          ("anno", False)])
def test_new_to_triaged(team, cluster_of, who, allowed):
    cluster = cluster_of()
    if allowed:
        assert services.cluster_triage(cluster=cluster, actor=team[who]).status == S.TRIAGED
        assert _status_events(cluster) == [(who, "triaged")]
        assert Event.objects.get(verb="feedback_cluster.status_changed").locale_tag == "de-DE"
    else:
        with pytest.raises(PermissionDenied):
            services.cluster_triage(cluster=cluster, actor=team[who])
        assert FeedbackCluster.objects.get(pk=cluster.pk).status == S.NEW
        assert _status_events(cluster) == []


def test_a_step_not_in_the_lifecycle_is_refused(team, cluster_of):
    cluster = services.cluster_triage(cluster=cluster_of(), actor=team["ling"])
    with pytest.raises(ValidationError, match="cannot become triaged"):
        services.cluster_triage(cluster=cluster, actor=team["ling"])
    with pytest.raises(ValidationError, match="needs a review first"):
        services.cluster_link_template(cluster=cluster, template_key="alarm.set", actor=team["lead"])


@pytest.mark.parametrize("who, assignee, outcome", [
    ("lead", "ling", "ok"), ("admin", "ling", "ok"), ("ling", "ling", "ok"),  # a linguist may take one
    ("ling", "ling2", "denied"), ("ling_ja", "ling_ja", "denied"),
    ("lead", "ling_ja", "invalid"), ("lead", "anno", "invalid"),  # not linguists of de-DE
])
def test_assignment_to_a_linguist_of_the_locale(team, cluster_of, who, assignee, outcome):
    cluster = cluster_of()
    if outcome == "ok":
        assert services.cluster_assign(cluster=cluster, assignee=team[assignee], actor=team[who]).assignee == \
            team[assignee]
        event = Event.objects.get(verb="feedback_cluster.assigned")
        assert (event.actor_label, event.payload["to"]) == (who, assignee)
        return
    with pytest.raises(PermissionDenied if outcome == "denied" else ValidationError):
        services.cluster_assign(cluster=cluster, assignee=team[assignee], actor=team[who])
    assert FeedbackCluster.objects.get(pk=cluster.pk).assignee is None


@pytest.mark.parametrize("who, allowed", [("ling", True), ("lead", True), ("ling2", False), ("ling_ja", False)])
def test_triaged_to_in_review_by_the_assignee_or_a_lead(team, cluster_of, who, allowed):
    cluster = services.cluster_triage(cluster=cluster_of(), actor=team["lead"])
    cluster = services.cluster_assign(cluster=cluster, assignee=team["ling"], actor=team["lead"])
    if allowed:
        assert services.cluster_review_start(cluster=cluster, actor=team[who]).status == S.IN_REVIEW
    else:
        with pytest.raises(PermissionDenied):
            services.cluster_review_start(cluster=cluster, actor=team[who])
        assert FeedbackCluster.objects.get(pk=cluster.pk).status == S.TRIAGED


def test_starting_review_of_an_unassigned_cluster_takes_it(team, cluster_of):
    cluster = services.cluster_triage(cluster=cluster_of(), actor=team["ling"])
    cluster = services.cluster_review_start(cluster=cluster, actor=team["ling2"])
    assert (cluster.status, cluster.assignee) == (S.IN_REVIEW, team["ling2"])


@pytest.mark.parametrize("who, allowed", [("ling", True), ("lead", True), ("ling2", False)])
def test_in_review_back_to_triaged(team, cluster_of, who, allowed):
    cluster = services.cluster_triage(cluster=cluster_of(), actor=team["ling"])
    cluster = services.cluster_review_start(cluster=cluster, actor=team["ling"])
    if allowed:
        assert services.cluster_send_back(cluster=cluster, actor=team[who], note="needs a lead").status == S.TRIAGED
    else:
        with pytest.raises(PermissionDenied):
            services.cluster_send_back(cluster=cluster, actor=team[who])


@pytest.mark.parametrize("start", ["new", "triaged", "in_review"])
@pytest.mark.parametrize("resolution", ["wont_fix", "not_a_bug"])
def test_close_from_each_open_state(team, cluster_of, start, resolution):
    cluster = cluster_of()
    if start != "new":
        cluster = services.cluster_triage(cluster=cluster, actor=team["ling"])
    if start == "in_review":
        cluster = services.cluster_review_start(cluster=cluster, actor=team["ling"])
        with pytest.raises(PermissionDenied):  # in review, only the reviewer (or a lead) resolves
            services.cluster_close(cluster=cluster, resolution=resolution, actor=team["ling2"])
    closed = services.cluster_close(cluster=cluster, resolution=resolution, actor=team["ling"], note="why")
    assert (closed.status, closed.resolution, closed.resolution_note) == (S.RESOLVED, resolution, "why")
    assert _status_events(cluster)[-1] == ("ling", "resolved")


def test_close_refuses_resolutions_with_their_own_action(team, cluster_of):
    with pytest.raises(ValidationError, match="own action"):
        services.cluster_close(cluster=cluster_of(), resolution="fixed_data", actor=team["lead"])


@pytest.mark.parametrize("who, allowed", [("lead", True), ("admin", True), ("ling", False), ("ling_ja", False)])
def test_resolved_reopens_to_triaged_by_leads(team, cluster_of, who, allowed):
    cluster = services.cluster_close(cluster=cluster_of(), resolution="not_a_bug", actor=team["ling"])
    if allowed:
        reopened = services.cluster_reopen(cluster=cluster, actor=team[who])
        assert (reopened.status, reopened.resolution) == (S.TRIAGED, "")
    else:
        with pytest.raises(PermissionDenied):
            services.cluster_reopen(cluster=cluster, actor=team[who])


def test_resolved_cluster_cannot_be_assigned(team, cluster_of):
    cluster = services.cluster_close(cluster=cluster_of(), resolution="wont_fix", actor=team["ling"])
    with pytest.raises(ValidationError, match="reopen"):
        services.cluster_assign(cluster=cluster, assignee=team["ling"], actor=team["lead"])


def test_the_transition_table_is_what_the_issue_names():
    assert services.CLUSTER_TRANSITIONS == {
        "new": {"triaged", "resolved"}, "triaged": {"in_review", "resolved"},
        "in_review": {"resolved", "triaged"}, "resolved": {"triaged"}}
