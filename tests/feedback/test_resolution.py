"""Resolution actions: label (a train or test candidate through utterance_create), link a
template key, mark as duplicate."""
import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from parley.events.models import Event
from parley.feedback import services
from parley.feedback.models import FeedbackCluster
from parley.nlu.models import Utterance

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_review(team, cluster_of):
    cluster = services.cluster_triage(cluster=cluster_of(), actor=team["ling"])
    return services.cluster_review_start(cluster=cluster, actor=team["ling"])


@pytest.mark.parametrize("partition", ["train", "test"])
def test_label_creates_a_submitted_feedback_candidate(team, in_review, partition):
    done = services.cluster_label(cluster=in_review, intent_name="alarm_set", annotated="weck mich um [time : sieben]",
                                  partition=partition, actor=team["ling"])
    utterance = Utterance.objects.get()
    assert (utterance.source, utterance.status, utterance.partition, utterance.intent.name) == \
        ("feedback", "submitted", partition, "alarm_set")
    assert utterance.slots == [{"type": "time", "value": "sieben", "start": 13, "end": 19}]
    assert utterance.provenance["feedback_cluster"] == in_review.pk
    assert (done.status, done.resolution, done.fix_utterance) == ("resolved", "fixed_data", utterance)
    assert Event.objects.filter(verb="utterance.created", target_id=str(utterance.pk)).exists()
    assert Event.objects.get(verb="feedback_cluster.status_changed", payload__to__resolution="fixed_data")


def test_label_is_validated_by_the_annotation_parser_and_writes_nothing_when_wrong(team, in_review):
    with pytest.raises(ValidationError) as caught:
        services.cluster_label(cluster=in_review, intent_name="alarm_set", annotated="weck mich um [time sieben]",
                               partition="train", actor=team["ling"])
    assert "annotated" in caught.value.message_dict
    assert "position" in caught.value.message_dict["annotated"][0]
    assert not Utterance.objects.exists()
    assert FeedbackCluster.objects.get(pk=in_review.pk).status == "in_review"


def test_label_refuses_unknown_intent_and_other_partitions(team, in_review):
    with pytest.raises(ValidationError, match="not a registered intent"):
        services.cluster_label(cluster=in_review, intent_name="nope", annotated="x", partition="train",
                               actor=team["ling"])
    with pytest.raises(ValidationError, match="partition"):
        services.cluster_label(cluster=in_review, intent_name="alarm_set", annotated="x", partition="dev",
                               actor=team["ling"])


def test_only_the_reviewer_or_a_lead_labels(team, in_review):
    with pytest.raises(PermissionDenied):
        services.cluster_label(cluster=in_review, intent_name="alarm_set", annotated="weck mich um [time : sieben]",
                               partition="train", actor=team["ling2"])
    services.cluster_label(cluster=in_review, intent_name="alarm_set", annotated="weck mich um [time : sieben]",
                           partition="train", actor=team["lead"])


def test_link_template_records_the_key(team, in_review):
    done = services.cluster_link_template(cluster=in_review, template_key="alarm.confirm_set", actor=team["ling"])
    assert (done.resolution, done.fix_template_key) == ("fixed_template", "alarm.confirm_set")
    assert Event.objects.get(payload__template_key="alarm.confirm_set").verb == "feedback_cluster.status_changed"
    with pytest.raises(ValidationError):
        services.cluster_link_template(cluster=in_review, template_key=" ", actor=team["ling"])


def test_mark_duplicate_points_at_the_root_and_stays_in_the_locale(team, cluster_of):
    root, middle, leaf = cluster_of("eins"), cluster_of("zwei"), cluster_of("drei")
    other = cluster_of("eins", locale="ja-JP")
    services.cluster_mark_duplicate(cluster=middle, of=root, actor=team["ling"])
    done = services.cluster_mark_duplicate(cluster=leaf, of=FeedbackCluster.objects.get(pk=middle.pk),
                                           actor=team["ling"])
    assert (done.resolution, done.duplicate_of_id) == ("duplicate", root.pk)
    with pytest.raises(ValidationError, match="another locale"):
        services.cluster_mark_duplicate(cluster=root, of=other, actor=team["admin"])
    with pytest.raises(ValidationError, match="itself"):
        services.cluster_mark_duplicate(cluster=root, of=root, actor=team["ling"])
    with pytest.raises(PermissionDenied):
        services.cluster_mark_duplicate(cluster=other, of=other, actor=team["ling"])


def test_label_refuses_masking_placeholders(team, cluster_of):
    cluster = cluster_of("schick das an anna@example.org")
    assert cluster.representative_text == "schick das an <email>"
    cluster = services.cluster_triage(cluster=cluster, actor=team["ling"])
    cluster = services.cluster_review_start(cluster=cluster, actor=team["ling"])
    with pytest.raises(ValidationError, match="replace the masked <email>"):
        services.cluster_label(cluster=cluster, intent_name="alarm_set", annotated="schick das an <email>",
                               partition="train", actor=team["ling"])
    services.cluster_label(cluster=cluster, intent_name="alarm_set", annotated="schick das an max@beispiel.de",
                           partition="train", actor=team["ling"])
    assert Utterance.objects.get().text == "schick das an max@beispiel.de"
