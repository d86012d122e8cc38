"""SLA escalation with a frozen clock (`now=`), per-locale SLAs, and the beat task."""
from datetime import datetime, timedelta, timezone as tz

import pytest

import factories as f
from parley.events.models import Event
from parley.feedback import services
from parley.feedback.models import FeedbackCluster
from parley.feedback.tasks import feedback_sla_escalate

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 12, 1, 10, 0, tzinfo=tz.utc)


@pytest.fixture
def clusters(team, cluster_of):
    return {"de": cluster_of("weck mich", timestamp="2026-12-01T10:00:00Z"),
            "ja": cluster_of("起こして", locale="ja-JP", timestamp="2026-12-01T10:00:00Z")}


def test_escalates_past_the_default_sla_and_not_before(clusters, settings):
    settings.PARLEY_FEEDBACK_SLA_HOURS = 24
    assert services.clusters_escalate(now=T0 + timedelta(hours=23, minutes=59)) == 0
    assert services.clusters_escalate(now=T0 + timedelta(hours=24, minutes=1)) == 2
    de = FeedbackCluster.objects.get(pk=clusters["de"].pk)
    assert de.escalated_at == T0 + timedelta(hours=24, minutes=1)
    assert de.priority > services.ESCALATION_BONUS
    event = Event.objects.filter(verb="feedback_cluster.escalated").get(target_id=str(de.pk))
    assert (event.locale_tag, event.payload["sla_hours"]) == ("de-DE", 24)


def test_a_locale_sla_overrides_the_default(team, clusters, settings):
    settings.PARLEY_FEEDBACK_SLA_HOURS = 24
    services.sla_set(locale=team["ja"], hours=4, actor="test")
    assert services.clusters_escalate(now=T0 + timedelta(hours=5)) == 1
    assert FeedbackCluster.objects.get(pk=clusters["ja"].pk).escalated_at is not None
    assert FeedbackCluster.objects.get(pk=clusters["de"].pk).escalated_at is None


def test_escalation_is_idempotent_and_skips_resolved(team, clusters, settings):
    settings.PARLEY_FEEDBACK_SLA_HOURS = 1
    services.cluster_close(cluster=clusters["de"], resolution="wont_fix", actor=team["ling"])
    assert services.clusters_escalate(now=T0 + timedelta(hours=2)) == 1
    assert services.clusters_escalate(now=T0 + timedelta(hours=3)) == 0
    assert Event.objects.filter(verb="feedback_cluster.escalated").count() == 1


def test_escalated_clusters_come_first_in_the_queue(team, cluster_of, settings):
    settings.PARLEY_FEEDBACK_SLA_HOURS = 24
    old_rare = cluster_of("alt", timestamp="2026-11-01T10:00:00Z", signal="low_confidence")
    fresh_hot = cluster_of("neu", timestamp="2026-12-01T09:00:00Z", signal="reported_defect")
    for i in range(20):
        f.feedback_ingest(f.feedback_item(f"hot{i}", text="neu", timestamp="2026-12-01T09:00:00Z",
                                          signal="reported_defect"))
    services.priorities_refresh(now=T0)
    assert list(FeedbackCluster.objects.order_by("-priority").values_list("pk", flat=True)) == [fresh_hot.pk,
                                                                                              old_rare.pk]
    services.clusters_escalate(now=T0)
    assert list(FeedbackCluster.objects.order_by("-priority").values_list("pk", flat=True)) == [old_rare.pk,
                                                                                              fresh_hot.pk]


def test_beat_task_is_scheduled_and_runs(clusters, settings):
    assert settings.CELERY_BEAT_SCHEDULE["feedback-escalate"]["task"] == "parley.feedback.tasks.feedback_sla_escalate"
    settings.PARLEY_FEEDBACK_SLA_HOURS = 1
    result = feedback_sla_escalate.apply().get()  # the real clock, which is past T0 + 1 h
    assert (result["escalated"], result["refreshed"]) == (2, 2)
    assert FeedbackCluster.objects.filter(escalated_at__isnull=False).count() == 2


def test_a_reopened_escalated_cluster_sorts_first_again(team, clusters, settings):
    settings.PARLEY_FEEDBACK_SLA_HOURS = 1
    services.clusters_escalate(now=T0 + timedelta(hours=2))
    closed = services.cluster_close(cluster=clusters["de"], resolution="wont_fix", actor=team["ling"])
    assert closed.priority < services.ESCALATION_BONUS
    reopened = services.cluster_reopen(cluster=closed, actor=team["lead"])
    assert reopened.priority > services.ESCALATION_BONUS
    assert services.clusters_escalate(now=T0 + timedelta(hours=3)) == 0


def test_who_may_set_an_sla(team):
    from django.core.exceptions import PermissionDenied

    services.sla_set(locale=team["de"], hours=5, actor=team["lead"])
    for who, locale in (("ling", team["de"]), ("lead", team["ja"]), ("lead", None)):
        with pytest.raises(PermissionDenied):
            services.sla_set(locale=locale, hours=5, actor=team[who])
    services.sla_set(locale=None, hours=10, actor=team["admin"])
    assert services.sla_hours_by_locale() == ({team["de"].pk: 5}, 10)
